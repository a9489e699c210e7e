/**
 * A ZIP archive read within bounds (what `nats audit gather` writes), on yauzl: the directory is
 * read first and its entry count bounded; only the entries asked for are inflated, each up to a
 * size limit. yauzl checks while inflating that an entry is exactly its declared size (a declared
 * size can lie); the CRC is checked here, on the bytes read.
 */
import { stat } from "node:fs/promises";
import { crc32 } from "node:zlib";
import yauzl from "yauzl";
import { ConfigError } from "../config.js";

export interface ZipLimits {
  /** Largest archive file read at all. */
  maxFileBytes: number;
  /** Most entries in its directory. */
  maxEntries: number;
}

export class ZipArchive {
  private constructor(
    private readonly zip: yauzl.ZipFile,
    private readonly path: string,
    /** The entries by name. */
    readonly entries: ReadonlyMap<string, yauzl.Entry>,
  ) {}

  static async open(path: string, limits: ZipLimits): Promise<ZipArchive> {
    const size = await stat(path).then(
      (s) => s.size,
      (e: NodeJS.ErrnoException) => {
        throw new ConfigError(`cannot read ${path}: ${e.code ?? e.message}`);
      },
    );
    if (size > limits.maxFileBytes)
      throw new ConfigError(`${path} is ${size} bytes, more than the ${limits.maxFileBytes} read`);
    const zip = await yauzl
      .openPromise(path, { lazyEntries: true, autoClose: false, validateEntrySizes: true })
      .catch((e: Error) => {
        throw bad(path, e.message);
      });
    try {
      if (zip.entryCount > limits.maxEntries)
        throw new ConfigError(`${path} has ${zip.entryCount} entries, more than the ${limits.maxEntries} read`);
      return new ZipArchive(zip, path, await readDirectory(zip, path));
    } catch (e) {
      zip.close();
      throw e;
    }
  }

  /** The entry's bytes, inflated; an entry larger than `maxBytes` (inflated) is refused. */
  async read(name: string, maxBytes: number): Promise<Buffer> {
    const entry = this.entries.get(name);
    if (!entry) throw new ConfigError(`${this.path}: no entry ${name}`);
    if (entry.uncompressedSize > maxBytes)
      throw new ConfigError(`${this.path}: ${name} is ${entry.uncompressedSize} bytes, more than the ${maxBytes} read`);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of await this.zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
    } catch (e) {
      throw bad(this.path, `${name}: ${(e as Error).message}`);
    }
    const data = Buffer.concat(chunks);
    if (crc32(data) !== entry.crc32) throw bad(this.path, `${name} fails its CRC check`);
    return data;
  }

  close(): void {
    this.zip.close();
  }
}

function bad(path: string, what: string): ConfigError {
  return new ConfigError(`${path} is not a readable ZIP archive: ${what}`);
}

function readDirectory(zip: yauzl.ZipFile, path: string): Promise<Map<string, yauzl.Entry>> {
  const entries = new Map<string, yauzl.Entry>();
  return new Promise((resolve, reject) => {
    zip.on("entry", (entry: yauzl.Entry) => {
      entries.set(entry.fileName, entry);
      zip.readEntry();
    });
    zip.once("end", () => resolve(entries));
    zip.once("error", (e: Error) => reject(bad(path, e.message)));
    zip.readEntry();
  });
}
