"""The multi-process harness: launch a scenario on real ranks (gloo, 127.0.0.1), one worker per
rank, an optional fork server, and the records each phase leaves."""
