// bench:bus helper: keeps one core busy (the 'wire-load' scenario) until killed.
for (;;) {
  let x = 0;
  for (let i = 0; i < 1e7; i++) x += i;
  if (x < 0) break;
}
