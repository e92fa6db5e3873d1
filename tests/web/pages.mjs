// The pages `node tests/web/run.mjs --screenshots DIR` photographs, each at
// the phone (390x844) and desktop (1280x800) viewports of harness.mjs, as
// DIR/NAME-phone.png and DIR/NAME-desktop.png (full page).
//
// { name, path, locale = 'en-US', status = 200 }: add a line per page of
// the site; a Spanish page is { name: 'home-es', path: '/', locale: 'es-ES' }.

export const SCREENSHOTS = [
  { name: 'home', path: '/' },
];
