"""From findings to messages that are delivered once: the state table, the lifecycle, the outbox,
rendering for e-mail, chat and machines, SNS."""
