import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// Three pages: the dashboard (index.html), the public grid directory and the
// published star ratings (ratings.html, issue 15).
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rollupOptions: {
      input: {
        index: resolve(import.meta.dirname, 'index.html'),
        directory: resolve(import.meta.dirname, 'directory.html'),
        ratings: resolve(import.meta.dirname, 'ratings.html'),
      },
    },
  },
});
