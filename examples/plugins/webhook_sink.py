"""A sinks.python example: each batch of predictions POSTed as JSON to a webhook.

    on_prediction:
      - using: sinks.python
        params:
          class: webhook_sink.py:WebhookSink
          params: {url: "https://hooks.example.com/predictions", headers: {Authorization: "Bearer ..."}}

The body is {"records": [{"key", "dag_name", "symbol", "ts", "prediction",
"frame", "column", "emitted_at", "origin"}, ...]}; `key` is
"dag_name|symbol|ts", for a receiver to deduplicate on (the engine delivers at
least once). A 4xx answer other than 408 and 429 is a request the receiver
will never accept: PermanentError stops this sink (its records wait in the
spool for the next start). Anything else (5xx, refused, timed out) is raised as
is and retried with backoff.
"""

import json
import urllib.error
import urllib.request

import alpha_forge


class WebhookSink:
    def __init__(self, url, headers=None, timeout_s=10.0):
        if not url.startswith(("http://", "https://")):
            raise ValueError("url %r is not http(s)" % url)
        self._url = url
        self._headers = {"Content-Type": "application/json"}
        self._headers.update(headers or {})
        self._timeout_s = float(timeout_s)

    @staticmethod
    def _record(symbol, ts, prediction, metadata):
        ts_text = ts.isoformat()
        return {
            "key": "%s|%s|%s" % (metadata["dag_name"], symbol, ts_text),
            "dag_name": metadata["dag_name"],
            "symbol": symbol,
            "ts": ts_text,
            "prediction": prediction,
            "frame": metadata["frame"],
            "column": metadata["column"],
            "emitted_at": metadata["emitted_at"].isoformat(),
            "origin": metadata["origin"],
        }

    def _post(self, records):
        body = json.dumps({"records": records}).encode()
        request = urllib.request.Request(self._url, data=body, headers=self._headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                response.read()
        except urllib.error.HTTPError as e:
            if 400 <= e.code < 500 and e.code not in (408, 429):
                raise alpha_forge.PermanentError("%s answered %d %s" % (self._url, e.code, e.reason)) from e
            raise

    def emit(self, symbol, ts, prediction, metadata):
        self._post([self._record(symbol, ts, prediction, metadata)])

    def emit_batch(self, records):
        self._post([self._record(*r) for r in records])

    def close(self):
        pass
