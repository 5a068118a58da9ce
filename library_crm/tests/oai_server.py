# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A real OAI-PMH repository for the tests and the benchmark: pyoai's
server (oaipmh.server, from PyPI) over the standard library's HTTP server,
on a loopback port, with records held in memory."""

import threading
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from lxml import etree
from oaipmh import common, metadata, server

# pyoai 2.5.0 decodes resumption tokens with cgi.parse_qs, which Python 3.8
# removed (urllib.parse.parse_qs is the same function): without this, its
# server answers every resumption token with badResumptionToken.
if not hasattr(server.cgi, "parse_qs"):
    server.cgi = types.SimpleNamespace(parse_qs=parse_qs)


def _marc21_writer(element, record_metadata):
    element.append(etree.fromstring(record_metadata.getMap()["marcxml"]))


class Repository:
    """The IOAI interface pyoai's server calls: records are dicts with
    identifier, datestamp (naive UTC datetime), deleted, and dc (a map of
    Dublin Core lists) or marcxml (bytes of one <record>)."""

    def __init__(self, records=(), presorted=False):
        self.records = list(records)
        # The benchmark's records come in datestamp order and do not change.
        self.presorted = presorted

    def identify(self):
        return common.Identify(
            repositoryName="Test catalogue",
            baseURL="http://127.0.0.1/oai",
            protocolVersion="2.0",
            adminEmails=["catalogue@example.com"],
            earliestDatestamp=min(r["datestamp"] for r in self.records),
            deletedRecord="persistent",
            granularity="YYYY-MM-DDThh:mm:ssZ",
            compression=["identity"],
        )

    def listMetadataFormats(self, identifier=None):
        return [
            ("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", server.NS_OAIDC),
            ("marc21", "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd", ""),
        ]

    def listRecords(
        self, metadataPrefix=None, from_=None, until=None, set=None, cursor=None, batch_size=None
    ):
        """All matching records; a slice of them for pyoai's BatchingServer
        (cursor and batch_size), which the benchmark uses."""
        records = self.records
        if not self.presorted:
            records = sorted(records, key=lambda r: (r["datestamp"], r["identifier"]))
        if cursor is not None and from_ is None and until is None:
            records = records[cursor : cursor + batch_size]
            cursor = None
        result = []
        for record in records:
            if from_ is not None and record["datestamp"] < from_:
                continue
            if until is not None and record["datestamp"] > until:
                continue
            header = common.Header(
                None, record["identifier"], record["datestamp"], [], record.get("deleted", False)
            )
            values = {"marcxml": record["marcxml"]} if "marcxml" in record else record.get("dc")
            result.append((header, common.Metadata(None, values or {}), None))
        if cursor is not None:
            return result[cursor : cursor + batch_size]
        return result


class OaiTestServer:
    """Start with start(), stop with stop(); base_url is the endpoint.
    drop_at: the request numbers (1 = the first ListRecords) at which the
    connection is closed without an answer, as a server that fails mid-list."""

    def __init__(self, repository, batch_size=10, batching=False):
        registry = metadata.MetadataRegistry()
        registry.registerWriter("oai_dc", server.oai_dc_writer)
        registry.registerWriter("marc21", _marc21_writer)
        self.repository = repository
        server_class = server.BatchingServer if batching else server.Server
        self.oai = server_class(repository, registry, resumption_batch_size=batch_size)
        self.drop_at = set()
        self.requests = 0
        self.httpd = None
        self.thread = None

    @property
    def base_url(self):
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/oai"

    def start(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests += 1
                if outer.requests in outer.drop_at:
                    self.close_connection = True
                    self.connection.close()
                    return
                query = parse_qs(urlsplit(self.path).query)
                body = outer.oai.handleRequest({key: values[0] for key, values in query.items()})
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)
