"""Domain errors raised by services and selectors.

The API gate maps them to the contract's bodies (one handler); the admin shows their messages; workers log them.
"""


class DomainError(Exception):
    """Base of the errors the business layer raises on purpose."""


class BusinessRuleError(DomainError):
    """A business rule refused the request: 422 {"errors": messages}."""

    def __init__(self, *messages: str):
        super().__init__(", ".join(messages))
        self.messages = list(messages)


class InsufficientFunds(BusinessRuleError):
    BALANCE = "Account balance is insufficient"
    LOCKED = "Account locked balance is insufficient"


class IllegalTransition(BusinessRuleError):
    """`Cannot <event> <model> in state <state>`: the state machine forbids the move; nothing changed."""

    def __init__(self, event: str, model: str, state: str):
        super().__init__(f"Cannot {event} {model} in state {state}")
        self.event, self.model, self.state = event, model, state


class RecordNotFound(DomainError):
    """A record named by the request does not exist: 404 {"error": "Couldn't find record."}."""


class ServiceUnavailable(DomainError):
    """A system the request needs (a wallet node) did not answer; nothing was written: 503
    {"error": "Service unavailable."}."""
