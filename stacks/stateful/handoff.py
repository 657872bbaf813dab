"""What the stateful stack hands to the stateless one: fixed outputs, read by stack output name."""

from dataclasses import dataclass, fields

import aws_cdk as cdk


@dataclass(frozen=True)
class StatefulHandoff:
    """Names and ARNs of the table and queues, as plain strings the consumer can use."""

    table_name: str
    table_arn: str
    queue_url: str
    queue_arn: str
    dead_letter_queue_url: str
    dead_letter_queue_arn: str


# Output logical ids in the stateful template, one per handoff field.
OUTPUT_NAMES = {
    "table_name": "TableName",
    "table_arn": "TableArn",
    "queue_url": "QueueUrl",
    "queue_arn": "QueueArn",
    "dead_letter_queue_url": "DeadLetterQueueUrl",
    "dead_letter_queue_arn": "DeadLetterQueueArn",
}


def publish(stack: cdk.Stack, values: StatefulHandoff) -> None:
    """Every field becomes an output, used or not, so no consumer change ever alters this list."""
    for field in fields(values):
        output = cdk.CfnOutput(stack, OUTPUT_NAMES[field.name], value=getattr(values, field.name))
        output.override_logical_id(OUTPUT_NAMES[field.name])


def read_from(producer_stack_name: str) -> StatefulHandoff:
    """Fn::GetStackOutput references: resolved at deploy time, no export locks the producer."""
    return StatefulHandoff(
        **{
            field_name: cdk.Fn.get_stack_output(producer_stack_name, output_name)
            for field_name, output_name in OUTPUT_NAMES.items()
        }
    )
