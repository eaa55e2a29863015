// IP address text, the one codec for the whole project (see text.ts).
export {
  canonicalInet,
  formatInet,
  formatInet4,
  formatInet6,
  hostPort,
  parseInet,
  parseInet4,
  parseInet6,
  writeInet4,
  writeInet6,
} from './text.js';
