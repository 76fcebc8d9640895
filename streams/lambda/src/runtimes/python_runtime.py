# Tarn's runtime loop for python3.x functions: speaks the Lambda Runtime API
# (AWS_LAMBDA_RUNTIME_API) and calls the handler named by _HANDLER
# ("module.function", the module under LAMBDA_TASK_ROOT), with a context
# object and error JSON shaped as Lambda's Python runtime shapes them.
# Shipped inside the tarn binary and written to the data directory.
import importlib
import json
import os
import sys
import time
import traceback
import http.client

_API = os.environ["AWS_LAMBDA_RUNTIME_API"]
_HOST, _, _PREFIX = _API.partition("/")
BASE = ("/" + _PREFIX if _PREFIX else "") + "/2018-06-01/runtime"
# One keep-alive connection to the Runtime API (http.client, not urllib:
# it imports in a fraction of the time, which is most of a cold start).
_conn = None


def call(method, path, body=None, headers=None):
    global _conn
    for attempt in (0, 1):
        if _conn is None:
            _conn = http.client.HTTPConnection(_HOST)
        try:
            _conn.request(method, BASE + path, body=body, headers=headers or {})
            r = _conn.getresponse()
            data = r.read()
            return r, data
        except (http.client.HTTPException, ConnectionError):
            _conn.close()
            _conn = None
            if attempt:
                raise


def post(path, body, headers=None):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    call("POST", path, body, h)


def error_body(e, tb=None):
    frames = traceback.format_list(traceback.extract_tb(tb or e.__traceback__))
    return json.dumps(
        {
            "errorMessage": str(e),
            "errorType": type(e).__name__,
            "requestId": "",
            "stackTrace": frames,
        }
    ).encode()


class Context:
    def __init__(self, headers):
        self.aws_request_id = headers.get("lambda-runtime-aws-request-id", "")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn", "")
        self._deadline_ms = int(headers.get("lambda-runtime-deadline-ms", "0"))
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        cc = headers.get("lambda-runtime-client-context")
        self.client_context = json.loads(cc) if cc else None

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)


def load_handler():
    handler = os.environ.get("_HANDLER", "")
    module_name, _, func_name = handler.rpartition(".")
    task_root = os.environ.get("LAMBDA_TASK_ROOT", ".")
    sys.path.insert(0, task_root)
    if not module_name:
        raise LoadError(
            "Runtime.MalformedHandlerName",
            "Bad handler '%s': not enough values to unpack (expected 2, got 1)" % handler,
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as e:
        raise LoadError(
            "Runtime.ImportModuleError",
            "Unable to import module '%s': %s" % (module_name, e),
        )
    except SyntaxError as e:
        raise LoadError(
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module '%s': %s" % (module_name, e),
        )
    fn = getattr(module, func_name, None)
    if fn is None:
        raise LoadError(
            "Runtime.HandlerNotFound",
            "Handler '%s' missing on module '%s'" % (func_name, module_name),
        )
    return fn


class LoadError(Exception):
    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type


def main():
    try:
        handler = load_handler()
    except LoadError as e:
        body = json.dumps(
            {"errorMessage": str(e), "errorType": e.error_type, "requestId": "", "stackTrace": []}
        ).encode()
        print("[ERROR] %s: %s" % (e.error_type, e), flush=True)
        post("/init/error", body, {"Lambda-Runtime-Function-Error-Type": e.error_type})
        sys.exit(1)
    except Exception as e:  # an exception at import time
        print("[ERROR] %s: %s" % (type(e).__name__, e), flush=True)
        post("/init/error", error_body(e), {"Lambda-Runtime-Function-Error-Type": "Runtime.Unknown"})
        sys.exit(1)
    while True:
        r, event_bytes = call("GET", "/invocation/next")
        headers = {k.lower(): v for k, v in r.getheaders()}
        ctx = Context(headers)
        request_id = ctx.aws_request_id
        os.environ["_X_AMZN_TRACE_ID"] = headers.get("lambda-runtime-trace-id", "")
        try:
            event = json.loads(event_bytes) if event_bytes else None
            result = handler(event, ctx)
            body = json.dumps(result).encode()
        except Exception as e:
            sys.stdout.flush()
            sys.stderr.flush()
            print(
                "[ERROR] %s: %s\nTraceback (most recent call last):\n%s"
                % (type(e).__name__, e, "".join(traceback.format_tb(e.__traceback__))),
                flush=True,
            )
            post(
                "/invocation/%s/error" % request_id,
                error_body(e),
                {"Lambda-Runtime-Function-Error-Type": "Unhandled"},
            )
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        post("/invocation/%s/response" % request_id, body)


if __name__ == "__main__":
    main()
