"""`python -m local`: starts the local system, says how to use it, runs until Ctrl-C or SIGTERM."""

import logging
import signal
import sys
import threading
import time
from types import FrameType

from local.assembly import AssemblyError
from local.settings import SettingsError
from local.system import LocalSystem, LocalSystemFailedError, Settings, running

# The exit code of a command started with settings it cannot use, as argparse has it.
USAGE_ERROR = 2


def banner(system: LocalSystem, started_in: float) -> str:
    key = system.api_key
    endpoint = system.aws_endpoint
    secret = system.api_key_secrets[0] if system.api_key_secrets else "(none in the template)"
    return f"""
Refund API (stage {system.stage}, local) ready in {started_in:.1f} s

  API_URL={system.api_url}
  API_KEY={key}

Try it:

  export API_URL={system.api_url} API_KEY={key}

  curl -s -X POST "$API_URL/refunds" -H "x-api-key: $API_KEY" \\
    -H 'Content-Type: application/json' \\
    -d '{{"orderId": "order-1001", "amount": 30.40, "reason": "Damaged on arrival"}}'

  curl -s "$API_URL/refunds/<refundId from the answer>" -H "x-api-key: $API_KEY"

  # over 1000 is rejected
  curl -s -X POST "$API_URL/refunds" -H "x-api-key: $API_KEY" \\
    -H 'Content-Type: application/json' \\
    -d '{{"orderId": "order-1002", "amount": 5000, "reason": "Wrong size"}}'

  # the payment gateway times out on every attempt: stays PENDING, message ends in the DLQ
  curl -s -X POST "$API_URL/refunds" -H "x-api-key: $API_KEY" \\
    -H 'Content-Type: application/json' -H 'X-Simulate-Failure: payment-gateway-timeout' \\
    -d '{{"orderId": "order-1003", "amount": 12.50, "reason": "Never delivered"}}'

Local AWS (moto) at {endpoint}, region {system.region}, any credentials:

  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws --endpoint-url {endpoint} \\
    --region {system.region} dynamodb scan --table-name {system.table_name}
  ... sqs receive-message --queue-url {system.dead_letter_queue_url}

The API key is also in Secrets Manager, as on a deployed stage:

  ... secretsmanager get-secret-value --secret-id {secret} --query SecretString --output text

Function logs: {system.log_dir}
moto runs as process {system.aws_process_id}; should it end, the local system stops with it.
Ctrl-C stops everything.
"""


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)-15s %(message)s", datefmt="%H:%M:%S"
    )
    for noisy in ("botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    started = time.monotonic()
    try:
        settings = Settings.from_environment()
    except SettingsError as error:
        print(f"cannot start the local system: {error}", file=sys.stderr)
        return USAGE_ERROR
    try:
        with running(settings) as system:
            print(banner(system, time.monotonic() - started), flush=True)
            while not stop.wait(0.5) and not system.failure.is_set():
                pass
            if not system.failure.is_set():
                print("stopping...", flush=True)
    except LocalSystemFailedError as error:
        print(f"the local system stopped: {error}", file=sys.stderr)
        return 1
    except (AssemblyError, OSError, RuntimeError, ValueError) as error:
        # A busy port, a missing cloud assembly or stage, a handler that cannot be imported.
        print(f"cannot start the local system: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
