# The CJG loket bot. Build: docker build -t cjgbot .
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot bot
COPY flows flows
COPY nlu nlu
COPY storage storage
RUN pip install --no-cache-dir '.[postgres]' && useradd --create-home cjgbot
USER cjgbot
WORKDIR /home/cjgbot
# Train the embedded classifier at build time, so start-up only loads it.
RUN cjgbot nlu train
ENTRYPOINT ["cjgbot"]
CMD ["run"]
