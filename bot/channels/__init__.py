"""Channel adapters: thin translations between a chat platform and the app."""
