"""An independent Open311 GeoReport v2 client against casetrail.

GET paths through the PyPI `georeport` package (JSON and XML); POST (which
`georeport` does not support) through urllib, form-encoded as the spec says.
Usage: open311_client.py BASE_URL API_KEY EXPECTED_REQUEST_ID
Prints "ok" and exits 0, or fails with an assertion.
"""
import json
import sys


def as_list(answer):
    """georeport's XML answers are xmltodict values: a dict for one element."""
    if isinstance(answer, dict):
        answer = answer.get("request", answer)
    return answer if isinstance(answer, list) else [answer]

import urllib.error
import urllib.parse
import urllib.request

from georeport import GeoReport

base, api_key, expected = sys.argv[1], sys.argv[2], sys.argv[3]
root = base.rstrip("/") + "/open311/v2"

for fmt in ("json", "xml"):
    client = GeoReport(root, output_format=fmt)
    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    assert "roads" in codes, codes
    assert all(isinstance(c, str) for c in codes), "service codes are strings"
    definition = client.get_service_definition("roads")
    assert definition["service_code"] == "roads", definition
    requests = client.get_service_requests()
    requests = as_list(requests)
    ids = [r["service_request_id"] for r in requests]
    assert expected in ids, ids
    one = client.get_service_requests(service_request_id=expected)
    one = as_list(one)
    assert len(one) == 1 and one[0]["service_request_id"] == expected, one
    assert one[0]["status"] in ("open", "closed")
    assert one[0]["expected_datetime"], one[0]
    for r in requests:
        assert r["status"] in ("open", "closed"), r

form = urllib.parse.urlencode({
    "api_key": api_key,
    "service_code": "roads",
    "attribute[applicant_iin]": sys.argv[4],
    "description": "A pothole on the main street",
    "address_string": "Main street 1",
}).encode()
request = urllib.request.Request(root + "/requests.json", data=form,
                                 headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
with urllib.request.urlopen(request) as response:
    created = json.loads(response.read())
new_id = created[0]["service_request_id"]
assert isinstance(new_id, str) and new_id, created
check = GeoReport(root).get_service_requests(service_request_id=new_id)
assert check[0]["service_request_id"] == new_id and check[0]["status"] == "open", check
assert "pothole" not in json.dumps(check), "the description (the appeal's text) is never answered"

bad = urllib.request.Request(root + "/requests.json", data=urllib.parse.urlencode({"api_key": "k-x.y", "service_code": "roads"}).encode())
try:
    urllib.request.urlopen(bad)
    raise AssertionError("a wrong api_key was accepted")
except urllib.error.HTTPError as error:
    assert error.code == 403, error.code
    body = json.loads(error.read())
    assert body[0]["code"] == 403, body
print("ok")
