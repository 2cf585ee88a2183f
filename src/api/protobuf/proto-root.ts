import protobuf from 'protobufjs';
import { isScalar, messageSchema, type MessageSchema } from '../schema/schema.ts';

/**
 * protoType returns the protobufjs reflection type of a schema message, building (once) the types of the message
 * and of every message it reaches from the one schema. protobufjs generates the encoder and decoder of each type on
 * first use; the wire format is the library's, the field numbers and types are upstream's.
 */
export function protoType(message: MessageSchema): protobuf.Type {
  const found = TYPES.get(message.name);
  if (found) return found;
  const pending: MessageSchema[] = [message];
  const built: protobuf.Type[] = [];
  while (pending.length > 0) {
    const m = pending.pop()!;
    if (TYPES.has(m.name)) continue;
    const dot = m.name.lastIndexOf('.');
    const type = new protobuf.Type(m.name.slice(dot + 1));
    for (const f of m.fields) {
      const wireType = isScalar(f.type) ? f.type : `.${f.type}`;
      if (f.map) type.add(new protobuf.MapField(f.name, f.number, 'string', wireType));
      else type.add(new protobuf.Field(f.name, f.number, wireType, f.repeated ? 'repeated' : 'optional'));
      if (!isScalar(f.type) && !TYPES.has(f.type)) pending.push(messageSchema(f.type));
    }
    ROOT.define(m.name.slice(0, dot)).add(type);
    TYPES.set(m.name, type);
    built.push(type);
  }
  for (const type of built) type.resolveAll();
  return TYPES.get(message.name)!;
}

const ROOT = new protobuf.Root();
/** TYPES caches the built types by full message name: immutable once built, shared by every request. */
const TYPES = new Map<string, protobuf.Type>();
