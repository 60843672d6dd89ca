"""Works on one generation's job in its own process, as a job worker would: the process
the crash tests `kill -9` part-way through.

    python -m tests.run_one_job GENERATION_ID
"""

from __future__ import annotations

import asyncio
import sys

from adremix.services import generation

if __name__ == "__main__":
    asyncio.run(generation.run_generation(generation_id=int(sys.argv[1])))
