"""The local API gateway: an HTTP server that enforces the synthesized REST API and calls Lambda.

It follows API Gateway's order for a REST API: find the resource and method (403 Missing
Authentication Token when there is none), check the API key, validate the request, then call the
function with a REST proxy event and copy its answer back. Refusals are rendered from the
template's gateway responses, so their JSON bodies are the ones a deployed stage returns.
"""

import base64
import binascii
import hmac
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local.api import GatewayResponse, Method, RestApi, Route
from local.functions import Invocable
from local.validation import body_errors, validation_error_string

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
API_KEY_HEADER = "x-api-key"
_CONTEXT_VARIABLE = re.compile(r"\$(?:\{context\.([A-Za-z0-9_.]+)\}|context\.([A-Za-z0-9_.]+))")

# Each refusal: its default status, its message, and the error type API Gateway names.
_REFUSALS = {
    "MISSING_AUTHENTICATION_TOKEN": (
        403,
        "Missing Authentication Token",
        "MissingAuthenticationTokenException",
    ),
    "INVALID_API_KEY": (403, "Forbidden", "ForbiddenException"),
    "BAD_REQUEST_BODY": (400, "Invalid request body", "BadRequestException"),
    "BAD_REQUEST_PARAMETERS": (400, None, "BadRequestException"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long", "RequestTooLongException"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "Unsupported Media Type", "UnsupportedMediaTypeException"),
    # A function error or a malformed proxy answer; API Gateway gives it no type of its own.
    "DEFAULT_5XX": (502, "Internal server error", "InternalServerErrorException"),
}

log = logging.getLogger("local.api")


@dataclass
class HttpRequest:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    too_large: bool = False
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    received: float = field(default_factory=time.time)

    @property
    def path(self) -> str:
        return unquote(urlsplit(self.target).path) or "/"

    def header(self, name: str) -> str | None:
        found = [value for key, value in self.headers if key.lower() == name.lower()]
        return found[-1] if found else None


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    refund_id: str | None = None


def _media_type(content_type: str | None) -> str:
    # A request without one is read as JSON, which is what API Gateway assumes.
    return (content_type or "application/json").split(";")[0].strip().lower()


def _is_binary(media_type: str, binary_media_types: tuple[str, ...]) -> bool:
    for pattern in binary_media_types:
        kind, _, subtype = pattern.lower().partition("/")
        wanted_kind, _, wanted_subtype = media_type.partition("/")
        if kind in ("*", wanted_kind) and subtype in ("*", wanted_subtype):
            return True
    return False


class Gateway:
    def __init__(
        self,
        api: RestApi,
        functions_by_arn: Mapping[str, Invocable],
        api_key: str,
        api_key_id: str,
        account: str,
    ) -> None:
        self._api = api
        self._functions = functions_by_arn
        self._api_key = api_key
        self._api_key_id = api_key_id
        self._account = account
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # The request pipeline, in API Gateway's order.

    def handle(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        response = self._respond(request)
        response.headers.setdefault("x-amzn-RequestId", request.request_id)
        elapsed = (time.monotonic() - started) * 1000
        refund = f" refund_id={response.refund_id}" if response.refund_id else ""
        log.info(
            "%s %s %d %.0fms%s", request.method, request.path, response.status, elapsed, refund
        )
        return response

    def _respond(self, request: HttpRequest) -> HttpResponse:
        if request.too_large:
            return self._refuse(request, "REQUEST_TOO_LARGE")
        route = self._api.route(request.path)
        method = None
        if route is not None:
            methods = route.resource.methods
            method = methods.get(request.method) or methods.get("ANY")
        if route is None or method is None:
            return self._refuse(request, "MISSING_AUTHENTICATION_TOKEN")
        if method.api_key_required and not self._key_is_valid(request.header(API_KEY_HEADER)):
            return self._refuse(request, "INVALID_API_KEY")
        if method.validate_parameters:
            missing = self._missing_parameters(request, route, method)
            if missing:
                message = f"Missing required request parameters: [{', '.join(missing)}]"
                return self._refuse(request, "BAD_REQUEST_PARAMETERS", message)
        if method.validate_body:
            schema = self._model(request, method)
            if schema is not None:
                text = request.body.decode("utf-8", errors="replace")
                errors = body_errors(schema, text)
                if errors:
                    return self._refuse(
                        request, "BAD_REQUEST_BODY", validation=validation_error_string(errors)
                    )
        if method.integration_type == "MOCK":
            return HttpResponse(method.mock_status, dict(method.mock_headers), b"")
        return self._integrate(request, route, method)

    def _key_is_valid(self, presented: str | None) -> bool:
        if presented is None:
            return False
        return hmac.compare_digest(presented.encode(), self._api_key.encode())

    def _missing_parameters(self, request: HttpRequest, route: Route, method: Method) -> list[str]:
        query = dict(parse_qsl(urlsplit(request.target).query, keep_blank_values=True))
        missing = []
        for name in method.required_parameters:
            _, _, place, parameter = name.split(".", 3)
            value = {
                "header": request.header(parameter),
                "querystring": query.get(parameter),
                "path": route.path_parameters.get(parameter),
            }.get(place)
            if not value:
                missing.append(parameter)
        return missing

    def _model(self, request: HttpRequest, method: Method) -> dict[str, Any] | None:
        """The model for the request's content type, else $default; none means no validation."""
        media_type = _media_type(request.header("Content-Type"))
        models = {key.lower(): schema for key, schema in method.models.items()}
        return models.get(media_type, models.get("$default"))

    def _integrate(self, request: HttpRequest, route: Route, method: Method) -> HttpResponse:
        pool = self._functions.get(method.function_arn or "")
        if pool is None:
            return self._refuse(request, "DEFAULT_5XX")
        trace_id = request.header("X-Amzn-Trace-Id") or (
            f"Root=1-{int(request.received):08x}-{uuid.uuid4().hex[:24]}"
        )
        event = self._proxy_event(request, route, method, trace_id)
        invocation = pool.invoke(event, trace_id=trace_id)
        if invocation.failed:
            error = invocation.error or {}
            log.warning(
                "%s failed: %s: %s", pool.name, error.get("errorType"), error.get("errorMessage")
            )
            return self._refuse(request, "DEFAULT_5XX")
        try:
            return self._proxy_response(invocation.result, route)
        except (TypeError, ValueError, KeyError, binascii.Error):
            log.warning("%s returned a malformed proxy response", pool.name)
            return self._refuse(request, "DEFAULT_5XX")

    def _proxy_event(
        self, request: HttpRequest, route: Route, method: Method, trace_id: str
    ) -> dict[str, Any]:
        split = urlsplit(request.target)
        multi_headers: dict[str, list[str]] = {}
        for name, value in request.headers:
            multi_headers.setdefault(name, []).append(value)
        forwarded = {
            "X-Amzn-Trace-Id": [trace_id],
            "X-Forwarded-For": [request.source_ip],
            "X-Forwarded-Proto": ["http"],
        }
        for name, values in forwarded.items():
            if not any(key.lower() == name.lower() for key in multi_headers):
                multi_headers[name] = values
        multi_query: dict[str, list[str]] = {}
        for name, value in parse_qsl(split.query, keep_blank_values=True):
            multi_query.setdefault(name, []).append(value)
        media_type = _media_type(request.header("Content-Type"))
        body: str | None = None
        is_base64 = False
        if request.body:
            try:
                if _is_binary(media_type, self._api.binary_media_types):
                    raise UnicodeDecodeError("binary", b"", 0, 0, "binary media type")
                body = request.body.decode("utf-8")
            except UnicodeDecodeError:
                body, is_base64 = base64.b64encode(request.body).decode("ascii"), True
        path_parameters = {name: unquote(value) for name, value in route.path_parameters.items()}
        return {
            "resource": route.resource.path,
            "path": request.path,
            "httpMethod": request.method,
            "headers": {name: values[-1] for name, values in multi_headers.items()},
            "multiValueHeaders": multi_headers,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_parameters or None,
            "stageVariables": None,
            "requestContext": self._request_context(request, route, method),
            "body": body,
            "isBase64Encoded": is_base64,
        }

    def _request_context(
        self, request: HttpRequest, route: Route, method: Method
    ) -> dict[str, Any]:
        return {
            "accountId": self._account,
            "apiId": self._api.logical_id[:10].lower(),
            "domainName": request.header("Host") or "127.0.0.1",
            "extendedRequestId": request.request_id,
            "httpMethod": request.method,
            "identity": {
                "apiKey": request.header(API_KEY_HEADER) if method.api_key_required else None,
                "apiKeyId": self._api_key_id if method.api_key_required else None,
                "sourceIp": request.source_ip,
                "userAgent": request.header("User-Agent"),
            },
            "path": f"/{self._api.stage_name}{request.path}",
            "protocol": "HTTP/1.1",
            "requestId": request.request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(request.received)),
            "requestTimeEpoch": int(request.received * 1000),
            "resourceId": route.resource.logical_id[:10].lower(),
            "resourcePath": route.resource.path,
            "stage": self._api.stage_name,
        }

    def _proxy_response(self, result: Any, route: Route) -> HttpResponse:
        """API Gateway's reading of a proxy answer; anything else is a malformed response."""
        if not isinstance(result, dict):
            raise TypeError("the proxy response is not an object")
        status = int(result["statusCode"])
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[str(name)] = ", ".join(str(value) for value in values)
        body = result.get("body")
        if body is not None and not isinstance(body, str):
            raise TypeError("the proxy response body is not a string")
        raw = (body or "").encode("utf-8")
        if result.get("isBase64Encoded"):
            raw = base64.b64decode(raw, validate=True)
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/json"
        refund_id = route.path_parameters.get("refundId")
        if refund_id is None and status < 300 and raw:
            try:
                refund_id = json.loads(raw).get("refundId")
            except (ValueError, AttributeError):
                refund_id = None
        return HttpResponse(status, headers, raw, refund_id)

    # Gateway responses.

    def _refuse(
        self,
        request: HttpRequest,
        response_type: str,
        message: str | None = None,
        validation: str = "",
    ) -> HttpResponse:
        default_status, default_message, error_type = _REFUSALS[response_type]
        message = message or default_message or ""
        fallback_type = "DEFAULT_5XX" if default_status >= 500 else "DEFAULT_4XX"
        specific = self._api.gateway_responses.get(response_type)
        fallback = self._api.gateway_responses.get(fallback_type)
        chosen = specific or fallback
        status = (
            (specific.status_code if specific else None)
            or (fallback.status_code if fallback else None)
            or default_status
        )
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": error_type}
        if chosen is not None:
            headers.update(chosen.headers)
        body = self._render(chosen, request, response_type, message, validation)
        return HttpResponse(status, headers, body.encode("utf-8"))

    def _render(
        self,
        response: GatewayResponse | None,
        request: HttpRequest,
        response_type: str,
        message: str,
        validation: str,
    ) -> str:
        templates = response.templates if response else {}
        template = templates.get("application/json") or next(iter(templates.values()), None)
        if template is None:
            return json.dumps({"message": message})
        values = {
            "requestId": request.request_id,
            "extendedRequestId": request.request_id,
            "stage": self._api.stage_name,
            "httpMethod": request.method,
            "path": f"/{self._api.stage_name}{request.path}",
            "resourcePath": request.path,
            "accountId": self._account,
            "apiId": self._api.logical_id[:10].lower(),
            "identity.sourceIp": request.source_ip,
            "identity.userAgent": request.header("User-Agent") or "",
            "error.message": message,
            "error.messageString": json.dumps(message),
            "error.responseType": response_type,
            "error.validationErrorString": validation,
        }

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2)
            # Velocity leaves a reference it cannot resolve as written.
            return values.get(name, match.group(0))

        return _CONTEXT_VARIABLE.sub(substitute, template)

    # The HTTP server.

    def start(self, port: int) -> int:
        gateway = self

        class Handler(_RequestHandler):
            pass

        Handler.gateway = gateway
        self._server = _Server(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )
        self._thread.start()
        return int(self._server.server_address[1])

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


class _RequestHandler(BaseHTTPRequestHandler):
    gateway: Gateway
    protocol_version = "HTTP/1.1"
    server_version = "local-api-gateway"
    # Headers and body go out in separate writes; with Nagle's algorithm on, a kept-alive
    # client's delayed ACK holds the body back about 40 ms.
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        try:
            body, too_large = self._read_body()
        except ValueError:
            log.info("%s %s 400: the body's length cannot be read", self.command, self.path)
            refusal = json.dumps({"message": "Bad Request"}).encode()
            self._send(HttpResponse(400, {"Content-Type": "application/json"}, refusal), True)
            return
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            too_large=too_large,
        )
        try:
            response = self.gateway.handle(request)
        except Exception:
            # A fault of the local gateway itself: the client still gets an answer.
            log.exception("%s %s failed in the local gateway", request.method, request.path)
            body = json.dumps({"message": "Internal server error"}).encode()
            response = HttpResponse(500, {"Content-Type": "application/json"}, body)
        # Whatever of a refused body is left unread is still on the socket: the connection is done.
        self._send(response, too_large)

    def _send(self, response: HttpResponse, close: bool) -> None:
        self.send_response(response.status)
        headers = {**response.headers, "Content-Length": str(len(response.body))}
        if close:
            headers["Connection"] = "close"
            self.close_connection = True
        for name, value in headers.items():
            if name.lower() not in ("date", "server"):
                self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _read_body(self) -> tuple[bytes, bool]:
        """The body, and whether it was too large to read; ValueError if its length is garbled."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if not length:
            return b"", False
        if not length.strip().isdigit():
            raise ValueError(f"Content-Length {length!r}")
        size = int(length)
        if size > MAX_PAYLOAD_BYTES:
            return b"", True
        return self.rfile.read(size), False

    def _read_chunked(self) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size < 0:
                raise ValueError(f"chunk size {size}")
            if size == 0:
                self.rfile.readline()
                return b"".join(chunks), False
            total += size
            if total > MAX_PAYLOAD_BYTES:
                return b"", True
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def __getattr__(self, name: str) -> Any:
        # The HTTP server answers 501 itself for a method it finds no do_<METHOD> for; API Gateway
        # takes any method token to its routes, so every one of them goes through the gateway.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        """The gateway writes its own line per request."""
