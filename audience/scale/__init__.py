"""The audience path across many hub processes, on Redis (issue 14; `[scale] redis_url`).

Phones may reach any hub node behind any load balancer. A node decides each vote with
the core's rule (finale.core.poll.decide_vote) on the poll the console published, then
records it with one Redis function (functions.lua) that guards the same rule atomically
and appends the vote to a Redis Stream; the phone is acknowledged only after Redis has
it. The console's bridge (bridge.py: `finale drain`, or the console itself) publishes the
show state into Redis and drains the stream into SQLite exactly once, so the SQLite file
stays the one source of truth for scoring, the audit log, export, report and verify.
"""
