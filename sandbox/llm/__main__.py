"""`python -m sandbox.llm --port P [--api-key KEY] [--model NAME ...]`: the model emulator, standalone."""

from __future__ import annotations

import argparse

import uvicorn

from sandbox.llm.app import DEFAULT_MODELS, create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.llm", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8090, help="port to listen on (default 8090)")
    parser.add_argument("--api-key", default=None, help="require this Bearer key on /v1 (default: no auth)")
    parser.add_argument(
        "--model",
        action="append",
        dest="models",
        metavar="NAME",
        help=f"a model to serve; repeat for several (default: {', '.join(DEFAULT_MODELS)})",
    )
    parser.add_argument("--log-level", default="info", help="uvicorn log level (default info)")
    args = parser.parse_args(argv)
    models = tuple(args.models or DEFAULT_MODELS)
    base_url = f"http://{args.host}:{args.port}/v1"
    print(f"OpenAI-compatible model emulator on {base_url}")
    print(f"  PROJECTOPS_LLM_BASE_URL={base_url} PROJECTOPS_LLM_MODEL={models[0]}", end="")
    print(f" PROJECTOPS_LLM_API_KEY={args.api_key}" if args.api_key else "")
    print(f"  script: POST http://{args.host}:{args.port}/_script   faults: POST .../_faults   log: GET .../_requests")
    uvicorn.run(
        create_app(api_key=args.api_key, models=models), host=args.host, port=args.port, log_level=args.log_level
    )


if __name__ == "__main__":
    main()
