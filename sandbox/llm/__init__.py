"""An OpenAI-compatible chat-completions emulator: real HTTP, scripted answers, faults on demand.

See `app.py` for the routes and control endpoints, `script.py` for the script format and the
default answers, `faults.py` for faults and request recording. Run it alone with
`python -m sandbox.llm --port P`.
"""

from sandbox.llm.app import DEFAULT_MODELS, LlmApp, LlmState, create_app
from sandbox.llm.script import ECHO, NO_FITTING_TOOL, RESULTS_PREFIX, TOOL_NOT_AVAILABLE, infer_arguments

__all__ = [
    "DEFAULT_MODELS",
    "ECHO",
    "NO_FITTING_TOOL",
    "RESULTS_PREFIX",
    "TOOL_NOT_AVAILABLE",
    "LlmApp",
    "LlmState",
    "create_app",
    "infer_arguments",
]
