/**
 * The seat layout lives with the catalog (src/catalog/layout.ts), which must not import the
 * inventory; this name stays for the inventory's users, which sit above the catalog.
 */
export { ZoneLayout } from '../catalog/layout';
