// Probes print one record per line, `key` or `key value`; this reads them back.
export class ProbeOutput {
  private readonly records: Array<[string, string]>;

  constructor(stdout: string) {
    this.records = stdout
      .split('\n')
      .map((line) => line.replace(/\r$/, ''))
      .filter((line) => line !== '')
      .map((line): [string, string] => {
        const space = line.indexOf(' ');
        return space < 0 ? [line, ''] : [line.slice(0, space), line.slice(space + 1)];
      });
  }

  has(key: string): boolean {
    return this.records.some(([k]) => k === key);
  }

  /** the value of the first record with this key */
  get(key: string): string | undefined {
    return this.records.find(([k]) => k === key)?.[1];
  }

  all(key: string): string[] {
    return this.records.filter(([k]) => k === key).map(([, v]) => v);
  }
}

export const decodeB64 = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');
