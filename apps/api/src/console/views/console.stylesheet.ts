/**
 * The console's only style, served from the console itself (`/console/console.css`) so the policy
 * can say `style-src 'self'`. Mobile first: one column at phone width, wider tables scroll.
 */
export const CONSOLE_STYLESHEET = `
*,*::before,*::after{box-sizing:border-box}
body{margin:0;font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#18181b;background:#f4f4f5}
a{color:#1d4ed8}
a:hover{color:#1e3a8a}
:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;padding:.5rem 1rem;background:#fff}
.skip:focus{left:.5rem;top:.5rem;z-index:1}
.bar{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem;padding:.75rem 1rem;background:#18181b;color:#fafafa}
.bar a{color:#fafafa}
.brand{font-weight:700;text-decoration:none}
.bar nav ul{display:flex;gap:1rem;margin:0;padding:0;list-style:none}
.bar form{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem;margin-left:auto}
.who{font-size:.875rem;overflow-wrap:anywhere}
main{max-width:64rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0 1rem;overflow-wrap:anywhere}
h2{font-size:1.25rem;margin:1.5rem 0 .75rem}
h3{font-size:1rem;margin:0}
section>h2:first-child{margin-top:0}
form+h3{margin:1.25rem 0 .5rem}
section,.card{background:#fff;border:1px solid #d4d4d8;border-radius:.5rem;padding:1rem;margin:0 0 1rem}
label{display:block;font-weight:600}
input,select{width:100%;margin:.25rem 0 .75rem;padding:.5rem;font:inherit;border:1px solid #71717a;border-radius:.25rem;background:#fff;color:#18181b}
button{padding:.5rem 1rem;font:inherit;font-weight:600;color:#fff;background:#1d4ed8;border:0;border-radius:.25rem;cursor:pointer}
button:hover{background:#1e3a8a}
.bar button{background:#fafafa;color:#18181b}
.hint{margin:-.5rem 0 .75rem;color:#52525b;font-size:.875rem}
.error{padding:.75rem;border:2px solid #b91c1c;border-radius:.25rem;color:#7f1d1d;background:#fef2f2;font-weight:600}
.chain{display:inline-block;padding:.25rem .75rem;border-radius:1rem;font-weight:700}
.chain-ok{background:#dcfce7;color:#14532d}
.chain-broken{background:#fee2e2;color:#7f1d1d}
dl{display:grid;grid-template-columns:minmax(7rem,max-content) 1fr;gap:.25rem 1rem;margin:0}
dt{font-weight:600}
dd{margin:0;overflow-wrap:anywhere}
.results,.timeline,.feed{list-style:none;margin:0;padding:0}
.results li{padding:.5rem 0;border-bottom:1px solid #e4e4e7}
.timeline>li,.feed>li{background:#fff;border:1px solid #d4d4d8;border-radius:.5rem;padding:1rem;margin:0 0 .75rem}
.meta{margin:.25rem 0 .5rem;color:#3f3f46;font-size:.875rem;overflow-wrap:anywhere}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.875rem}
th,td{text-align:left;vertical-align:top;padding:.375rem .5rem;border-bottom:1px solid #e4e4e7;overflow-wrap:break-word}
th{background:#f4f4f5}
.before{color:#7f1d1d}
.after{color:#14532d}
pre{margin:.5rem 0 0;padding:.5rem;background:#f4f4f5;border-radius:.25rem;overflow-x:auto;font-size:.8125rem}
.pages{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;margin:1rem 0}
.filters{display:grid;gap:0 1rem}
@media (min-width:48rem){
  main{padding:1.5rem}
  .filters{grid-template-columns:repeat(4,1fr)}
  .filters button{grid-column:1}
  .columns{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
}
`;
