// The lab bridge's gateway is the first address of its network: the controller, as the lab hosts see it.
export function gatewayOf(cidr: string): string {
  const [addr = '', bits = '24'] = cidr.split('/');
  const n = addr.split('.').reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
  const mask = Number(bits) === 0 ? 0 : (0xffffffff << (32 - Number(bits))) >>> 0;
  const gw = ((n & mask) + 1) >>> 0;
  return [24, 16, 8, 0].map((s) => (gw >>> s) & 255).join('.');
}
