import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createDeflate, inflateSync } from 'node:zlib';
import { SPDY3_DICTIONARY, SpdySession } from './spdy-session.ts';

/** headerBlock encodes SPDY/3 headers (count, then length-prefixed names and values). */
function headerBlock(headers: Record<string, string>): Buffer {
  const u32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  return Buffer.concat([
    u32(Object.keys(headers).length),
    ...Object.entries(headers).flatMap(([k, v]) => [u32(k.length), Buffer.from(k), u32(v.length), Buffer.from(v)]),
  ]);
}

/** A client-side compressor as spdystream's: one zlib stream for the session, sync-flushed after each block. */
function compressor(): (raw: Buffer) => Promise<Buffer> {
  const deflate = createDeflate({ dictionary: SPDY3_DICTIONARY, level: 9 });
  const chunks: Buffer[] = [];
  deflate.on('data', (b: Buffer) => chunks.push(b));
  return (raw) =>
    new Promise((resolve) => {
      deflate.write(raw);
      deflate.flush(constants.Z_SYNC_FLUSH, () => resolve(Buffer.concat(chunks.splice(0))));
    });
}

function synStream(id: number, compressed: Buffer, fin = false): Buffer {
  const head = Buffer.alloc(18);
  head.writeUInt16BE(0x8003, 0);
  head.writeUInt16BE(1, 2);
  head[4] = fin ? 1 : 0;
  head.writeUIntBE(10 + compressed.length, 5, 3);
  head.writeUInt32BE(id, 8);
  return Buffer.concat([head, compressed]);
}

test('SpdySession reads streams whose headers share one zlib stream, and answers with readable replies', async () => {
  const out: Buffer[] = [];
  const session = new SpdySession((b) => out.push(b));
  const streams: { id: number; headers: Record<string, string> }[] = [];
  session.on('stream', (s) => streams.push(s));
  const compress = compressor();
  const first = synStream(1, await compress(headerBlock({ streamtype: 'error', port: '80', requestid: '0' })));
  const second = synStream(3, await compress(headerBlock({ streamtype: 'data', port: '80', requestid: '0' })));
  // Frames split at odd places, as a socket delivers them.
  const wire = Buffer.concat([first, second]);
  session.receive(wire.subarray(0, 7));
  session.receive(wire.subarray(7, first.length + 3));
  session.receive(wire.subarray(first.length + 3));
  assert.deepEqual(streams, [
    { id: 1, headers: { streamtype: 'error', port: '80', requestid: '0' } },
    { id: 3, headers: { streamtype: 'data', port: '80', requestid: '0' } },
  ]);
  session.reply(1);
  session.reply(3);
  // Each reply's block must decode on its own, right after the previous one, from one zlib stream.
  const blocks = out.map((frame) => frame.subarray(12));
  assert.deepEqual(
    [...inflateSync(blocks[0]!, { dictionary: SPDY3_DICTIONARY, finishFlush: constants.Z_SYNC_FLUSH })],
    [0, 0, 0, 0],
  );
  assert.deepEqual(
    [...inflateSync(Buffer.concat(blocks), { dictionary: SPDY3_DICTIONARY, finishFlush: constants.Z_SYNC_FLUSH })],
    [0, 0, 0, 0, 0, 0, 0, 0],
  );
  assert.ok(
    blocks[1]!.subarray(-5).equals(Buffer.from([0, 0, 0, 0xff, 0xff])),
    'each block ends with a sync-flush marker',
  );
});

test('SpdySession passes DATA, FIN and RST_STREAM on, echoes PING and sends DATA frames', () => {
  const out: Buffer[] = [];
  const session = new SpdySession((b) => out.push(b));
  const seen: string[] = [];
  session.on('data', (id, data) => seen.push(`data ${id} ${data}`));
  session.on('end', (id) => seen.push(`end ${id}`));
  session.on('reset', (id) => seen.push(`reset ${id}`));
  session.receive(
    Buffer.concat([Buffer.from([0, 0, 0, 3, 0, 0, 0, 2]), Buffer.from('hi'), Buffer.from([0, 0, 0, 3, 1, 0, 0, 0])]),
  );
  session.receive(Buffer.from([0x80, 3, 0, 3, 0, 0, 0, 8, 0, 0, 0, 3, 0, 0, 0, 5]));
  session.receive(Buffer.from([0x80, 3, 0, 6, 0, 0, 0, 4, 0, 0, 0, 7]));
  assert.deepEqual(seen, ['data 3 hi', 'end 3', 'reset 3']);
  assert.deepEqual([...out[0]!], [0x80, 3, 0, 6, 0, 0, 0, 4, 0, 0, 0, 7]);
  session.data(3, Buffer.from('ok'), true);
  assert.deepEqual([...out[1]!], [0, 0, 0, 3, 1, 0, 0, 2, 0x6f, 0x6b]);
});
