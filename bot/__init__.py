"""The running bot: channel adapters, the app that executes flows, scheduler and CLI."""
