/**
 * A bounded reader for ZIP files (what `nats audit gather` writes): the central directory is read
 * from the end of the file, and only the entries asked for are read and inflated, each up to a
 * size limit checked while inflating (a declared size can lie) and against its CRC. Zip64 end
 * records are understood (Go writes them past 65,535 entries); entries themselves must be small.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { crc32, inflateRawSync } from "node:zlib";
import { ConfigError } from "../config.js";

export interface ZipLimits {
  /** Largest archive file read at all. */
  maxFileBytes: number;
  /** Most entries in its directory. */
  maxEntries: number;
}

export interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** The end record and its longest comment. */
const TAIL_BYTES = 22 + 0xffff;
const MAX_NAME = 4096;

export class ZipFile {
  readonly entries: Map<string, ZipEntry>;

  private constructor(
    private readonly fd: number,
    private readonly path: string,
    entries: Map<string, ZipEntry>,
  ) {
    this.entries = entries;
  }

  static open(path: string, limits: ZipLimits): ZipFile {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      throw new ConfigError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
      const size = fstatSync(fd).size;
      if (size > limits.maxFileBytes) throw new ConfigError(`${path} is ${size} bytes, more than the ${limits.maxFileBytes} read`);
      return new ZipFile(fd, path, readDirectory(fd, path, size, limits));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** The entry's bytes, inflated; an entry larger than `maxBytes` (inflated) is refused. */
  read(name: string, maxBytes: number): Buffer {
    const entry = this.entries.get(name);
    if (!entry) throw new ConfigError(`${this.path}: no entry ${name}`);
    if (entry.size > maxBytes) throw new ConfigError(`${this.path}: ${name} is ${entry.size} bytes, more than the ${maxBytes} read`);
    const local = readAt(this.fd, entry.localHeaderOffset, 30);
    if (local.length < 30 || local.readUInt32LE(0) !== LOCAL) throw bad(this.path, `no local header for ${name}`);
    const start = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    const raw = readAt(this.fd, start, entry.compressedSize);
    if (raw.length !== entry.compressedSize) throw bad(this.path, `${name} is cut short`);
    let data: Buffer;
    if (entry.method === 0) data = raw;
    else if (entry.method === 8) {
      try {
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, maxBytes) });
      } catch (e) {
        throw bad(this.path, `${name} does not inflate within ${maxBytes} bytes: ${(e as Error).message}`);
      }
    } else throw bad(this.path, `${name} uses compression method ${entry.method}`);
    if (data.length !== entry.size || crc32(data) !== entry.crc) throw bad(this.path, `${name} fails its size or CRC check`);
    return data;
  }

  close(): void {
    closeSync(this.fd);
  }
}

function bad(path: string, what: string): ConfigError {
  return new ConfigError(`${path} is not a readable ZIP archive: ${what}`);
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}

function readDirectory(fd: number, path: string, size: number, limits: ZipLimits): Map<string, ZipEntry> {
  const tailStart = Math.max(0, size - TAIL_BYTES);
  const tail = readAt(fd, tailStart, size - tailStart);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      at = i;
      break;
    }
  }
  if (at < 0) throw bad(path, "no end of central directory");
  let count = tail.readUInt16LE(at + 10);
  let dirSize = tail.readUInt32LE(at + 12);
  let dirOffset = tail.readUInt32LE(at + 16);
  if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
    if (at < 20 || tail.readUInt32LE(at - 20) !== ZIP64_LOCATOR) throw bad(path, "a zip64 end record is announced but missing");
    const record = readAt(fd, Number(tail.readBigUInt64LE(at - 20 + 8)), 56);
    if (record.length < 56 || record.readUInt32LE(0) !== ZIP64_EOCD) throw bad(path, "the zip64 end record is missing");
    count = safe(record.readBigUInt64LE(32));
    dirSize = safe(record.readBigUInt64LE(40));
    dirOffset = safe(record.readBigUInt64LE(48));
  }
  if (count > limits.maxEntries) throw new ConfigError(`${path} has ${count} entries, more than the ${limits.maxEntries} read`);
  if (dirOffset + dirSize > size || dirSize > count * (46 + MAX_NAME + 2 * 0xffff)) throw bad(path, "the central directory lies outside the file");
  const dir = readAt(fd, dirOffset, dirSize);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL) throw bad(path, `central directory entry ${i} is damaged`);
    const nameLength = dir.readUInt16LE(p + 28);
    const extraLength = dir.readUInt16LE(p + 30);
    const commentLength = dir.readUInt16LE(p + 32);
    if (nameLength > MAX_NAME || p + 46 + nameLength > dir.length) throw bad(path, `central directory entry ${i} has a damaged name`);
    const entry: ZipEntry = {
      name: dir.toString("utf8", p + 46, p + 46 + nameLength),
      method: dir.readUInt16LE(p + 10),
      crc: dir.readUInt32LE(p + 16),
      compressedSize: dir.readUInt32LE(p + 20),
      size: dir.readUInt32LE(p + 24),
      localHeaderOffset: dir.readUInt32LE(p + 42),
    };
    // Entries that need zip64 sizes or offsets are far larger than anything read from an archive.
    if (entry.compressedSize !== 0xffffffff && entry.size !== 0xffffffff && entry.localHeaderOffset !== 0xffffffff) entries.set(entry.name, entry);
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function safe(n: bigint): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new ConfigError("a ZIP size beyond any archive read");
  return Number(n);
}
