"""A payment gateway that always times out: the refund stays PENDING, its message goes to the DLQ.

The queue's maximum receives come from the stateful template: the second test runs the system on
a copy of the synthesized assembly with that one setting changed, and the local system follows it.
"""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from local.assembly import QUEUE_TYPE, load_stage
from local.system import LocalSystem
from tests.e2e.support import RefundApi, dead_letter, local_run

pytestmark = pytest.mark.e2e

TIMEOUT = {"X-Simulate-Failure": "payment-gateway-timeout"}
REFUND = {"orderId": "order-3001", "amount": 25, "reason": "Never delivered"}


def test_refund_queue_allows_three_receives(local_system: LocalSystem) -> None:
    assert local_system.event_source_queue is not None
    assert local_system.event_source_queue.max_receive_count == 3


def test_gateway_timeout_leaves_the_refund_pending_with_its_message_in_the_dlq(
    api: RefundApi, local_system: LocalSystem
) -> None:
    refund_id = api.create(REFUND, headers=TIMEOUT)

    message = dead_letter(local_system, refund_id)

    assert json.loads(message["Body"]) == {"refundId": refund_id}
    # Three receives from the refund queue, and the one that just read it here.
    assert message["Attributes"]["ApproximateReceiveCount"] == "4"
    assert api.get(refund_id).json()["status"] == "PENDING"


def _with_max_receive_count(source: Path, target: Path, count: int) -> Path:
    """A copy of the cloud assembly whose refund queue allows `count` receives."""
    shutil.copytree(source, target)
    stateful = load_stage(target, "Dev").stateful
    template_path = next(target.glob(f"*/{stateful.artifact_id}.template.json"))
    template = json.loads(template_path.read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == QUEUE_TYPE and "RedrivePolicy" in resource["Properties"]:
            resource["Properties"]["RedrivePolicy"]["maxReceiveCount"] = count
    template_path.write_text(json.dumps(template))
    return target


@pytest.fixture(scope="module")
def single_receive_system(
    cloud_assembly: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalSystem]:
    assembly = _with_max_receive_count(
        cloud_assembly, tmp_path_factory.mktemp("single-receive") / "cdk.out", 1
    )
    with local_run(assembly, tmp_path_factory.mktemp("single-receive-logs")) as system:
        yield system


def test_a_maximum_of_one_receive_sends_the_failing_message_to_the_dlq_after_one_receive(
    single_receive_system: LocalSystem,
) -> None:
    with requests.Session() as session:
        api = RefundApi(single_receive_system, session)
        refund_id = api.create(REFUND, headers=TIMEOUT)

        message = dead_letter(single_receive_system, refund_id)

        assert message["Attributes"]["ApproximateReceiveCount"] == "2"
        assert api.get(refund_id).json()["status"] == "PENDING"
