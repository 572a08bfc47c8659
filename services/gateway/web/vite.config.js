import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// Four pages: the dashboard (index.html), the public grid directory, the
// published star ratings (ratings.html, issue 15) and the staff login
// (login.html, issue 16).
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rollupOptions: {
      input: {
        index: resolve(import.meta.dirname, 'index.html'),
        directory: resolve(import.meta.dirname, 'directory.html'),
        ratings: resolve(import.meta.dirname, 'ratings.html'),
        login: resolve(import.meta.dirname, 'login.html'),
      },
    },
  },
});
