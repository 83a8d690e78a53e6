"""Operations tests: health, metrics, logs, backups, the queue."""
