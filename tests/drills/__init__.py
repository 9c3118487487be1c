"""The crash drills, the endpoint-fault drill and the hub fuzzer, shared by tests/test_drill_*.py,
tests/test_fuzz_hub.py and their long versions in bench/drills.py.

- phone.py: the one test phone (real websockets, reconnects and resends its unacknowledged vote);
- checks.py: what the store must hold afterwards (every acknowledged vote once, tables == audit log);
- hub.py: the hub as the console runs it (a child of the real HubSupervisor) and event databases;
- mc.py: an MC process that resumes whatever round the database holds (finale.runner.ShowRunner);
- console_kill.py, hub_kill.py, endpoint_faults.py, fuzz.py: the drills themselves.

Subprocesses run `python -m tests.drills director DB ...` (the MC) and `python -m tests.drills console
DB PORT LOG` (a stand-in for the console's process: one supervised hub until a signal).
"""
