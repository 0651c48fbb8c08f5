import type { RouteCase } from '../helpers/isolation.js';

/** The compatibility routers' routes in the isolation matrix: one table per router, joined here. */
export const COMPAT_ROUTES: Record<string, RouteCase> = {};
