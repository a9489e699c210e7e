/** ZIP archives for tests that need ones the real tools would not write (damaged, hostile), made by yazl. */
import { buffer } from "node:stream/consumers";
import yazl from "yazl";

export interface ZipInput {
  name: string;
  data: Buffer | string;
  /** Say in the central directory that the entry inflates to this many bytes (a lying entry). */
  declaredSize?: number;
  /** Say in the central directory that the entry's CRC-32 is this (a damaged entry). */
  declaredCrc?: number;
}

const CENTRAL_HEADER = 0x02014b50;

export async function writeZip(inputs: ZipInput[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const input of inputs) zip.addBuffer(Buffer.from(input.data), input.name, { compress: true });
  zip.end();
  const bytes = await buffer(zip.outputStream);
  for (const input of inputs) {
    if (input.declaredSize !== undefined) centralHeader(bytes, input.name).writeUInt32LE(input.declaredSize, 24);
    if (input.declaredCrc !== undefined) centralHeader(bytes, input.name).writeUInt32LE(input.declaredCrc, 16);
  }
  return bytes;
}

/** `name`'s central directory header (the one readers trust), as a view into the archive. */
function centralHeader(zip: Buffer, name: string): Buffer {
  const bytes = Buffer.from(name);
  for (let at = zip.indexOf(bytes); at >= 0; at = zip.indexOf(bytes, at + 1)) {
    if (at >= 46 && zip.readUInt32LE(at - 46) === CENTRAL_HEADER) return zip.subarray(at - 46, at);
  }
  throw new Error(`no central directory header for ${name}`);
}
