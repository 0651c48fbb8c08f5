import { randomBytes } from 'node:crypto';

/** `Acme Corp, Inc.` → `acme-corp-inc`; never empty, never longer than 48 characters. */
export function slugFromName(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/g, '');
  return slug || 'org';
}

export function withSuffix(base: string): string {
  return `${base}-${randomBytes(3).toString('hex')}`;
}
