// What a backend server receives, byte for byte: the PROXY protocol header of each version, and forward_protocol tcp
// (bytes untouched) versus http (X-Forwarded-For added). A raw TCP recorder stands in for the backend server.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { waitFor } from '../fixtures/servers.js';
import { Pki } from '../fixtures/pki.js';
import { E2e, fastCheck, measure, type Service } from './support/lb.js';
import { exchange, startRecorder, type Recorder } from './support/servers.js';

const e = E2e.suite('protocol');

const V2_SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');
const PP2_TYPE_SSL = 0x20;

interface V2Header {
  /** Version (high nibble, 2) and command (low nibble: 0 LOCAL, 1 PROXY). */
  verCmd: number;
  /** Address family and transport: 0x11 is TCP over IPv4. */
  family: number;
  src: string;
  dst: string;
  dstPort: number;
  tlvs: { type: number; value: Buffer }[];
  /** What follows the header: the client's own bytes. */
  rest: Buffer;
}

function parseV2(b: Buffer): V2Header {
  assert.ok(b.subarray(0, 12).equals(V2_SIGNATURE), `v2 signature: ${b.subarray(0, 16).toString('hex')}`);
  const len = b.readUInt16BE(14);
  const body = b.subarray(16, 16 + len);
  const ip4 = (o: number) => [...body.subarray(o, o + 4)].join('.');
  const tlvs = [];
  for (let o = 12; o + 3 <= body.length;) {
    const n = body.readUInt16BE(o + 1);
    tlvs.push({ type: body[o], value: body.subarray(o + 3, o + 3 + n) });
    o += 3 + n;
  }
  return { verCmd: b[12], family: b[13], src: ip4(0), dst: ip4(4), dstPort: body.readUInt16BE(10), tlvs,
    rest: b.subarray(16 + len) };
}

/** A TCP service in front of a recorder, with the given PROXY protocol version. */
async function recorded(proxyProtocol: string): Promise<{ rec: Recorder; svc: Service; port: number }> {
  const [rec] = e.serve(await startRecorder(e.host()));
  const svc = await e.lb.service({ forwardProtocol: 'tcp', forwardPort: rec.port, serverIp: [rec.host],
    proxyProtocol: proxyProtocol as never });
  return { rec, svc, port: svc.port };
}

/** Sends a marked request from a client address of this file and returns what the server got on that connection. */
async function sendMarked(rec: Recorder, port: number): Promise<{ client: string; payload: string; got: Buffer }> {
  const client = e.host();
  const payload = `GET /${randomBytes(6).toString('hex')} HTTP/1.0\r\nX-Odd-Case:  two  spaces\r\n\r\n`;
  const answer = await exchange(e.lb.ip, port, payload, { localAddress: client });
  assert.equal(answer.status, 200, answer.data.toString());
  const got = await waitFor('the request at the server', () => rec.find(payload.split('\r\n')[0]), 2000, 5);
  return { client, payload, got };
}

test('proxy_protocol v1: the server first gets a PROXY TCP4 line naming the client and the LB address', async () => {
  const { rec, port } = await recorded('proxy_protocol_v1');
  const { client, payload, got } = await sendMarked(rec, port);
  const text = got.toString('latin1');
  const m = /^PROXY TCP4 (\S+) (\S+) (\d+) (\d+)\r\n/.exec(text);
  assert.ok(m, `PROXY v1 line: ${JSON.stringify(text.slice(0, 80))}`);
  assert.deepEqual([m[1], m[2], Number(m[4])], [client, e.lb.ip, port]);
  assert.equal(text.slice(m[0].length), payload, 'then the client bytes, untouched');
});

for (const [version, tlv] of [['proxy_protocol_v2', false], ['proxy_protocol_v2_ssl', true],
  ['proxy_protocol_v2_ssl_cn', true]] as const) {
  test(`${version}: the server first gets the v2 binary header (PROXY, TCP4, client and LB addresses)`, async () => {
    const { rec, port } = await recorded(version);
    const { client, payload, got } = await sendMarked(rec, port);
    const h = parseV2(got);
    assert.equal(h.verCmd, 0x21, 'version 2, command PROXY');
    assert.equal(h.family, 0x11, 'TCP over IPv4');
    assert.deepEqual([h.src, h.dst, h.dstPort], [client, e.lb.ip, port]);
    assert.equal(h.rest.toString('latin1'), payload, 'then the client bytes, untouched');
    const ssl = h.tlvs.find((t) => t.type === PP2_TYPE_SSL);
    if (tlv) {
      // The SSL TLV describes the client's TLS session with the LB. This frontend has no certificate (plain TCP), so it
      // says "no TLS" (client flags 0), and the _cn variant has no certificate name to add: both look alike.
      assert.ok(ssl, `SSL TLV: ${JSON.stringify(h.tlvs)}`);
      assert.equal(ssl.value[0], 0, 'client flags: not TLS');
    } else {
      assert.deepEqual(h.tlvs, [], 'plain v2 carries no TLV');
    }
    // Health checks to the traffic port announce themselves with a v2 LOCAL header.
    assert.ok(rec.connections.some((c) => c.subarray(0, 12).equals(V2_SIGNATURE) && c[12] === 0x20), 'a LOCAL check header');
  });
}

test('health_check.check_send_proxy: checks open with a PROXY v1 line, traffic carries none', async () => {
  const [rec] = e.serve(await startRecorder(e.host()));
  const svc = await e.lb.service({ forwardProtocol: 'tcp', forwardPort: rec.port, serverIp: [rec.host],
    healthCheck: fastCheck({ checkSendProxy: true }) });
  await svc.waitServer(rec.host, 'running', 'passed');
  const checks = rec.connections.filter((c) => c.length > 0).map((c) => c.toString('latin1'));
  assert.ok(checks.length > 0 && checks.every((c) => /^PROXY TCP4 \S+ \S+ \d+ \d+\r\n$/.test(c)), JSON.stringify(checks));
  const { payload, got } = await sendMarked(rec, svc.port);
  assert.equal(got.toString('latin1'), payload);
});

test('forward_protocol tcp passes the bytes untouched; http rewrites the request and adds X-Forwarded-For', async () => {
  const { rec, svc, port } = await recorded('proxy_protocol_none');
  const tcp = await sendMarked(rec, port);
  assert.equal(tcp.got.toString('latin1'), tcp.payload, 'tcp: the server gets exactly what the client sent');

  const changed = await svc.update({ forwardProtocol: 'http' });
  await measure('forward_protocol tcp -> http (reload) -> X-Forwarded-For at the server', changed, async () => {
    const { got } = await sendMarked(rec, port);
    return /\r\nx-forwarded-for: /i.test(got.toString('latin1'));
  }, 10_000, 0);
  await e.lb.ready();
  const http = await sendMarked(rec, port);
  const text = http.got.toString('latin1');
  assert.notEqual(text, http.payload, 'http: the request is parsed and written again');
  assert.match(text, new RegExp(`\r\nx-forwarded-for: ${http.client.replaceAll('.', '\\.')}\r\n`, 'i'));
});

/** Sends `payload` over TLS (SNI `servername`) from `localAddress` and resolves once the server closes. */
function tlsSend(host: string, port: number, localAddress: string, servername: string, ca: string, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // localAddress reaches the TCP connect (not in the TLS option types).
    const opts = { host, port, localAddress, servername, ca, timeout: 5000 };
    const s = tlsConnect(opts, () => s.write(payload));
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('timeout', () => s.destroy(new Error('TLS exchange timed out')));
    s.on('error', reject);
    s.on('end', () => s.end());
    s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

for (const version of ['proxy_protocol_v2_ssl', 'proxy_protocol_v2_ssl_cn'] as const) {
  test(`${version} behind a TLS frontend: the SSL TLV carries the client's real TLS session, byte for byte`, async () => {
    const pki = await Pki.create();
    try {
      const leaf = await pki.leaf(['pp.example.com']);
      const cert = await e.api.createCertificate({ lbId: e.lb.id, name: 'pp', customCertificate: { certificateChain: leaf.chain } });
      const [rec] = e.serve(await startRecorder(e.host()));
      const svc = await e.lb.service({ forwardProtocol: 'tcp', forwardPort: rec.port, serverIp: [rec.host], proxyProtocol: version },
        { certificateIds: [cert.id] });
      const client = e.host();
      const payload = `GET /${randomBytes(6).toString('hex')} HTTP/1.0\r\n\r\n`;
      const answer = await tlsSend(e.lb.ip, svc.port, client, 'pp.example.com', pki.rootCert, payload);
      assert.match(answer, /^HTTP\/1\.[01] 200/, 'the answer came back through TLS');
      const got = await waitFor('the request at the server', () => rec.find(payload.split('\r\n')[0]), 2000, 5);
      const h = parseV2(got);
      assert.deepEqual([h.verCmd, h.family, h.src, h.dst, h.dstPort], [0x21, 0x11, client, e.lb.ip, svc.port]);
      assert.equal(h.rest.toString('latin1'), payload, 'then the client bytes, decrypted and untouched');
      const ssl = h.tlvs.find((t) => t.type === PP2_TYPE_SSL);
      // client flags 0x01 (PP2_CLIENT_SSL: the connection was TLS; no client certificate, so no _cn name), verify 0,
      // then sub-TLV 0x21 (PP2_SUBTYPE_SSL_VERSION) "TLSv1.3".
      const expected = Buffer.concat([Buffer.from([0x01, 0, 0, 0, 0, 0x21, 0x00, 0x07]), Buffer.from('TLSv1.3', 'latin1')]);
      assert.equal(ssl?.value.toString('hex'), expected.toString('hex'), JSON.stringify(h.tlvs.map((t) => [t.type, t.value.toString('hex')])));
    } finally {
      pki.close();
    }
  });
}
