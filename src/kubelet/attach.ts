import { closeSync, openSync, readSync, statSync, watch } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { acceptWebSocket, CHANNEL_PROTOCOLS, frame, NORMAL_CLOSE, onFrames } from './exec-websocket.ts';

/**
 * serveAttach answers `kubectl attach` on the kubelet (WebSocket channel protocol, as exec): the container's output
 * from now on, on the stdout stream, until the client goes. The process runtime keeps no stdin pipe to a running
 * container, so input is not passed on.
 */
export function serveAttach(req: IncomingMessage, socket: Duplex, o: { logPath: string }): void {
  if (!acceptWebSocket(req, socket, CHANNEL_PROTOCOLS)) {
    socket.end(
      'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\r\nattach needs a WebSocket with the v4 or v5 channel protocol\n',
    );
    return;
  }
  let offset = statSync(o.logPath).size;
  const pump = () => {
    const size = statSync(o.logPath).size;
    if (size < offset) offset = 0;
    if (size === offset || !socket.writable) return;
    const fd = openSync(o.logPath, 'r');
    try {
      const data = Buffer.alloc(size - offset);
      readSync(fd, data, 0, data.length, offset);
      offset = size;
      socket.write(frame(Buffer.concat([Buffer.from([1]), data])));
    } finally {
      closeSync(fd);
    }
  };
  const watcher = watch(o.logPath, pump);
  const timer = setInterval(pump, 500);
  onFrames(socket, Buffer.alloc(0), (parsed) => {
    if (parsed.opcode === 0x8) socket.end(NORMAL_CLOSE);
  });
  const stop = () => {
    watcher.close();
    clearInterval(timer);
  };
  socket.on('close', stop);
  socket.on('error', stop);
}
