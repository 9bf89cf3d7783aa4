"""An independent client: Python stubs generated from proto/ at run time, used against a running commentguard.

Usage: python_client.py ADDR API_KEY PROTO_DIR
Prints one JSON object with what it observed; the Rust test asserts on it.
"""
import json
import sys
import tempfile

from grpc_tools import protoc
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from google.rpc import error_details_pb2


def main() -> None:
    addr, key, proto_dir = sys.argv[1:4]
    out = tempfile.mkdtemp()
    include = protoc._get_resource_file_name("grpc_tools", "_proto")
    code = protoc.main(["protoc", f"-I{proto_dir}", f"-I{include}", f"--python_out={out}", f"--grpc_python_out={out}",
                        "commentguard/v1/commentguard.proto"])
    if code != 0:
        raise SystemExit(f"protoc failed: {code}")
    sys.path.insert(0, out)
    from commentguard.v1 import commentguard_pb2 as pb, commentguard_pb2_grpc as rpc

    channel = grpc.insecure_channel(addr)
    stub = rpc.ModerationServiceStub(channel)
    auth = (("authorization", f"Bearer {key}"),)
    result = {}

    resp = stub.SubmitComment(pb.SubmitCommentRequest(
        comment_id="py-1", thread_id="article-9", body="Bohat acha article hai, shukriya!",
        author=pb.Author(ip="198.51.100.4"), offset_encoding=pb.OFFSET_ENCODING_UTF16), metadata=auth)
    result["verdict"] = pb.Verdict.Name(resp.verdict)
    result["cursor"] = resp.decision_cursor

    got = stub.GetComment(pb.GetCommentRequest(comment_id="py-1"), metadata=auth)
    result["get_verdict"] = pb.Verdict.Name(got.verdict)
    result["get_thread"] = got.thread_id

    try:
        stub.SubmitComment(pb.SubmitCommentRequest(comment_id="py-2", thread_id="t", body="   ",
                                                   author=pb.Author(ip="nope")), metadata=auth)
    except grpc.RpcError as err:
        result["invalid_code"] = err.code().name
        status = rpc_status.from_call(err)
        fields = []
        for detail in status.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                fields += [v.field for v in bad.field_violations]
        result["invalid_fields"] = fields

    health = health_pb2_grpc.HealthStub(channel)
    result["health"] = health_pb2.HealthCheckResponse.ServingStatus.Name(
        health.Check(health_pb2.HealthCheckRequest(service="")).status)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
