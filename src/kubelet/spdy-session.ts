import { inflateSync, constants } from 'node:zlib';
import { EventEmitter } from 'node:events';

/**
 * SpdySession is the server side of a SPDY/3.1 connection as kubectl's port-forward uses it (moby/spdystream on the
 * client): the client opens streams (SYN_STREAM with headers), the server answers each with SYN_REPLY, and both
 * sides send DATA frames (FIN half-closes) or RST_STREAM. Header blocks are zlib streams primed with SPDY/3's
 * dictionary; the client's are inflated (one zlib stream per direction for the whole session), the server's are
 * sent as stored (uncompressed) deflate blocks, which any zlib reader accepts. No flow control: spdystream has none.
 */
export interface SpdyStream {
  id: number;
  headers: Record<string, string>;
}

export interface SpdySessionEvents {
  stream: [SpdyStream];
  data: [id: number, data: Buffer];
  /** The client half-closed the stream (DATA or SYN_STREAM with FIN). */
  end: [id: number];
  reset: [id: number];
  close: [];
}

/** SPDY3_DICTIONARY is the zlib dictionary of SPDY/3 header compression (from the SPDY/3 draft). */
export const SPDY3_DICTIONARY = Buffer.from(
  'AAAAB29wdGlvbnMAAAAEaGVhZAAAAARwb3N0AAAAA3B1dAAAAAZkZWxldGUAAAAFdHJhY2UAAAAGYWNjZXB0AAAADmFjY2VwdC1jaGFyc2V0AAAAD2FjY2Vw' +
    'dC1lbmNvZGluZwAAAA9hY2NlcHQtbGFuZ3VhZ2UAAAANYWNjZXB0LXJhbmdlcwAAAANhZ2UAAAAFYWxsb3cAAAANYXV0aG9yaXphdGlvbgAAAA1jYWNoZS1j' +
    'b250cm9sAAAACmNvbm5lY3Rpb24AAAAMY29udGVudC1iYXNlAAAAEGNvbnRlbnQtZW5jb2RpbmcAAAAQY29udGVudC1sYW5ndWFnZQAAAA5jb250ZW50LWxl' +
    'bmd0aAAAABBjb250ZW50LWxvY2F0aW9uAAAAC2NvbnRlbnQtbWQ1AAAADWNvbnRlbnQtcmFuZ2UAAAAMY29udGVudC10eXBlAAAABGRhdGUAAAAEZXRhZwAA' +
    'AAZleHBlY3QAAAAHZXhwaXJlcwAAAARmcm9tAAAABGhvc3QAAAAIaWYtbWF0Y2gAAAARaWYtbW9kaWZpZWQtc2luY2UAAAANaWYtbm9uZS1tYXRjaAAAAAhp' +
    'Zi1yYW5nZQAAABNpZi11bm1vZGlmaWVkLXNpbmNlAAAADWxhc3QtbW9kaWZpZWQAAAAIbG9jYXRpb24AAAAMbWF4LWZvcndhcmRzAAAABnByYWdtYQAAABJw' +
    'cm94eS1hdXRoZW50aWNhdGUAAAATcHJveHktYXV0aG9yaXphdGlvbgAAAAVyYW5nZQAAAAdyZWZlcmVyAAAAC3JldHJ5LWFmdGVyAAAABnNlcnZlcgAAAAJ0' +
    'ZQAAAAd0cmFpbGVyAAAAEXRyYW5zZmVyLWVuY29kaW5nAAAAB3VwZ3JhZGUAAAAKdXNlci1hZ2VudAAAAAR2YXJ5AAAAA3ZpYQAAAAd3YXJuaW5nAAAAEHd3' +
    'dy1hdXRoZW50aWNhdGUAAAAGbWV0aG9kAAAAA2dldAAAAAZzdGF0dXMAAAAGMjAwIE9LAAAAB3ZlcnNpb24AAAAISFRUUC8xLjEAAAADdXJsAAAABnB1Ymxp' +
    'YwAAAApzZXQtY29va2llAAAACmtlZXAtYWxpdmUAAAAGb3JpZ2luMTAwMTAxMjAxMjAyMjA1MjA2MzAwMzAyMzAzMzA0MzA1MzA2MzA3NDAyNDA1NDA2NDA3' +
    'NDA4NDA5NDEwNDExNDEyNDEzNDE0NDE1NDE2NDE3NTAyNTA0NTA1MjAzIE5vbi1BdXRob3JpdGF0aXZlIEluZm9ybWF0aW9uMjA0IE5vIENvbnRlbnQzMDEg' +
    'TW92ZWQgUGVybWFuZW50bHk0MDAgQmFkIFJlcXVlc3Q0MDEgVW5hdXRob3JpemVkNDAzIEZvcmJpZGRlbjQwNCBOb3QgRm91bmQ1MDAgSW50ZXJuYWwgU2Vy' +
    'dmVyIEVycm9yNTAxIE5vdCBJbXBsZW1lbnRlZDUwMyBTZXJ2aWNlIFVuYXZhaWxhYmxlSmFuIEZlYiBNYXIgQXByIE1heSBKdW4gSnVsIEF1ZyBTZXB0IE9j' +
    'dCBOb3YgRGVjIDAwOjAwOjAwIE1vbiwgVHVlLCBXZWQsIFRodSwgRnJpLCBTYXQsIFN1biwgR01UY2h1bmtlZCx0ZXh0L2h0bWwsaW1hZ2UvcG5nLGltYWdl' +
    'L2pwZyxpbWFnZS9naWYsYXBwbGljYXRpb24veG1sLGFwcGxpY2F0aW9uL3hodG1sK3htbCx0ZXh0L3BsYWluLHRleHQvamF2YXNjcmlwdCxwdWJsaWNwcml2' +
    'YXRlbWF4LWFnZT1nemlwLGRlZmxhdGUsc2RjaGNoYXJzZXQ9dXRmLThjaGFyc2V0PWlzby04ODU5LTEsdXRmLSwqLGVucT0wLg==',
  'base64',
);

const TYPE_SYN_STREAM = 1;
const TYPE_SYN_REPLY = 2;
const TYPE_RST_STREAM = 3;
const TYPE_PING = 6;
const TYPE_GOAWAY = 7;
const FLAG_FIN = 1;
const RST_CANCEL = 5;

export class SpdySession extends EventEmitter<SpdySessionEvents> {
  #write: (chunk: Buffer) => void;
  #buffer: Buffer = Buffer.alloc(0);
  #compressedIn: Buffer = Buffer.alloc(0);
  #inflatedUsed = 0;
  #headerStreamStarted = false;
  #closed = false;

  /** write sends bytes to the client (the socket, or WebSocket frames when tunnelled). */
  constructor(write: (chunk: Buffer) => void) {
    super();
    this.#write = write;
  }

  /** receive takes bytes from the client; frames may be split across calls. */
  receive(chunk: Buffer): void {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    while (this.#buffer.length >= 8) {
      const length = this.#buffer.readUIntBE(5, 3);
      if (this.#buffer.length < 8 + length) return;
      const frame = this.#buffer.subarray(0, 8 + length);
      this.#buffer = this.#buffer.subarray(8 + length);
      this.#frame(frame);
    }
  }

  #frame(frame: Buffer): void {
    const flags = frame[4]!;
    const payload = frame.subarray(8);
    if ((frame[0]! & 0x80) === 0) {
      const id = frame.readUInt32BE(0) & 0x7fffffff;
      if (payload.length) this.emit('data', id, Buffer.from(payload));
      if (flags & FLAG_FIN) this.emit('end', id);
      return;
    }
    const type = frame.readUInt16BE(2);
    switch (type) {
      case TYPE_SYN_STREAM: {
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        const headers = this.#inflateHeaders(payload.subarray(10));
        this.emit('stream', { id, headers });
        if (flags & FLAG_FIN) this.emit('end', id);
        break;
      }
      case TYPE_RST_STREAM:
        this.emit('reset', payload.readUInt32BE(0) & 0x7fffffff);
        break;
      case TYPE_PING:
        // Echo the client's ping (odd ids are the client's).
        this.#send(control(TYPE_PING, 0, payload));
        break;
      case TYPE_GOAWAY:
        this.close();
        break;
      default:
        // SETTINGS, WINDOW_UPDATE, HEADERS: nothing to do without flow control.
        break;
    }
  }

  /** #inflateHeaders decodes one header block; the zlib stream runs across the whole session. */
  #inflateHeaders(block: Buffer): Record<string, string> {
    this.#compressedIn = Buffer.concat([this.#compressedIn, block]);
    const all = inflateSync(this.#compressedIn, { dictionary: SPDY3_DICTIONARY, finishFlush: constants.Z_SYNC_FLUSH });
    const raw = all.subarray(this.#inflatedUsed);
    this.#inflatedUsed = all.length;
    const headers: Record<string, string> = {};
    let offset = 4;
    const count = raw.readUInt32BE(0);
    for (let i = 0; i < count; i++) {
      const nameLength = raw.readUInt32BE(offset);
      const name = raw.subarray(offset + 4, offset + 4 + nameLength).toString('utf8');
      offset += 4 + nameLength;
      const valueLength = raw.readUInt32BE(offset);
      headers[name.toLowerCase()] = raw.subarray(offset + 4, offset + 4 + valueLength).toString('utf8');
      offset += 4 + valueLength;
    }
    return headers;
  }

  /** #headerBlock encodes headers as stored deflate blocks, with the zlib header before the first one. */
  #headerBlock(headers: Record<string, string>): Buffer {
    const parts: Buffer[] = [u32(Object.keys(headers).length)];
    for (const [k, v] of Object.entries(headers))
      parts.push(u32(Buffer.byteLength(k)), Buffer.from(k), u32(Buffer.byteLength(v)), Buffer.from(v));
    const raw = Buffer.concat(parts);
    const out: Buffer[] = [];
    if (!this.#headerStreamStarted) {
      this.#headerStreamStarted = true;
      // CMF 0x78 (deflate, 32K window), FLG with FDICT and a valid check, then the dictionary's Adler-32.
      const cmf = 0x78;
      let flg = 0x20;
      flg += 31 - ((cmf * 256 + flg) % 31);
      out.push(Buffer.from([cmf, flg]), u32(adler32(SPDY3_DICTIONARY)));
    }
    for (let i = 0; i < raw.length || i === 0; i += 65535) {
      const piece = raw.subarray(i, i + 65535);
      const len = Buffer.alloc(5);
      len[0] = 0;
      len.writeUInt16LE(piece.length, 1);
      len.writeUInt16LE(~piece.length & 0xffff, 3);
      out.push(len, piece);
      if (raw.length === 0) break;
    }
    // An empty stored block, as zlib's sync flush writes: a reader returns the block's bytes when it reaches it,
    // instead of reading on into the next frame (Go's flate reader does that after a non-empty stored block).
    out.push(Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]));
    return Buffer.concat(out);
  }

  /** reply answers a stream's SYN_STREAM (empty headers, as the kubelet does). */
  reply(id: number): void {
    this.#send(control(TYPE_SYN_REPLY, 0, Buffer.concat([u32(id), this.#headerBlock({})])));
  }

  /** data sends bytes on a stream; fin half-closes it. */
  data(id: number, data: Buffer, fin = false): void {
    for (let i = 0; i < data.length || (i === 0 && fin); i += 0xffffff) {
      const piece = data.subarray(i, i + 0xffffff);
      const last = i + 0xffffff >= data.length;
      const head = Buffer.alloc(8);
      head.writeUInt32BE(id & 0x7fffffff, 0);
      head[4] = fin && last ? FLAG_FIN : 0;
      head.writeUIntBE(piece.length, 5, 3);
      this.#send(Buffer.concat([head, piece]));
      if (data.length === 0) break;
    }
  }

  reset(id: number): void {
    this.#send(control(TYPE_RST_STREAM, 0, Buffer.concat([u32(id), u32(RST_CANCEL)])));
  }

  /** close ends the session (GOAWAY) once; the caller closes the transport. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#send(control(TYPE_GOAWAY, 0, Buffer.concat([u32(0), u32(0)])));
    this.emit('close');
  }

  #send(frame: Buffer): void {
    if (!this.#closed || frame.readUInt16BE(2) === TYPE_GOAWAY) this.#write(frame);
  }
}

function control(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8003, 0);
  head.writeUInt16BE(type, 2);
  head[4] = flags;
  head.writeUIntBE(payload.length, 5, 3);
  return Buffer.concat([head, payload]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function adler32(data: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}
