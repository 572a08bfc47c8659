import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// Six pages: the dashboard (index.html), the public grid directory, the
// published star ratings (ratings.html, issue 15), the staff login
// (login.html), the staff workbench (wb/index.html, issue 16;
// public/wb: its service worker and manifest) and the city dashboard
// (city.html, issue 18: on a city's database).
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rollupOptions: {
      input: {
        index: resolve(import.meta.dirname, 'index.html'),
        directory: resolve(import.meta.dirname, 'directory.html'),
        ratings: resolve(import.meta.dirname, 'ratings.html'),
        wb: resolve(import.meta.dirname, 'wb/index.html'),
        login: resolve(import.meta.dirname, 'login.html'),
        city: resolve(import.meta.dirname, 'city.html'),
      },
    },
  },
});
