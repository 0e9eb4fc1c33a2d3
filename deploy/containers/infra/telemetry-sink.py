"""An OTLP/gRPC receiver that keeps nothing, with health and UI ports; arguments are ignored
(the collector's `--config=` among them)."""
import http.server
import threading
from concurrent import futures

import grpc


class Discard(grpc.GenericRpcHandler):
    def service(self, handler_call_details):
        # Every OTLP Export* response with no partial success is the empty message.
        return grpc.unary_unary_rpc_method_handler(
            lambda request, context: b"",
            request_deserializer=None,
            response_serializer=None,
        )


class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"telemetry sink: OTLP received and discarded (stand-in for the collector and Jaeger)\n"
        self.send_response(200)
        self.send_header("content-type", "text/plain; charset=utf-8")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


for port in (13133, 14269, 16686):
    server = http.server.ThreadingHTTPServer(("0.0.0.0", port), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
grpc_server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=[Discard()])
grpc_server.add_insecure_port("0.0.0.0:4317")
grpc_server.start()
grpc_server.wait_for_termination()
