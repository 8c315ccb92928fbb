"""Errors shaped like Stripe's, so the ``stripe`` package raises its usual exceptions."""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    """An error answered as ``{"error": {...}}`` with Stripe's HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        replayable: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.code = code
        self.param = param
        self.decline_code = decline_code
        #: Stripe does not save idempotent results for requests that failed validation.
        self.replayable = replayable

    def body(self) -> dict[str, Any]:
        """Return the JSON body Stripe would send."""
        error: dict[str, Any] = {"message": self.message, "type": self.error_type}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = "https://stripe.com/docs/error-codes/" + self.code.replace("_", "-")
        if self.param:
            error["param"] = self.param
        if self.decline_code:
            error["decline_code"] = self.decline_code
        return {"error": error}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeError:
    """A 400 for a request that fails validation (never saved for idempotent replay)."""
    return StripeError(400, message, param=param, code=code, replayable=False)


def missing(param: str) -> StripeError:
    """A 400 for a required parameter that was not sent."""
    return invalid(f"Missing required param: {param}.", param=param, code="parameter_missing")


def unknown(param: str) -> StripeError:
    """A 400 for a parameter this endpoint does not take."""
    return invalid(f"Received unknown parameter: {param}", param=param, code="parameter_unknown")


def no_such(noun: str, object_id: str, *, param: str = "id", status: int = 404) -> StripeError:
    """The "No such customer: 'cus_x'" error."""
    return StripeError(
        status, f"No such {noun}: '{object_id}'", param=param, code="resource_missing"
    )


def conflict(message: str, *, code: str | None = None, param: str | None = None) -> StripeError:
    """A 400 for a well-formed request the object's current state does not allow."""
    return StripeError(400, message, code=code, param=param)
