// vitest's settings for runners_auto/vitest: its files only, its cache
// in the suite's copy (never in the shared npm cache's node_modules).
export default {
	cacheDir: '.vite-cache',
	test: { include: ['vitest/*.test.mjs'] },
};
