// The lab bridge's gateway is the first address of its network: the controller, as the lab hosts see it.
export { gatewayOf } from '../roles/net.js';
