import { Html, html } from './html.js';

describe(html.name, () => {
  it('escapes every interpolated string, in text and in attributes', () => {
    const name = `<script>alert("1")</script> & 'x'`;

    const sut = html`<p title="${name}">${name}</p>`;

    expect(sut.value).toBe(
      '<p title="&lt;script&gt;alert(&quot;1&quot;)&lt;/script&gt; &amp; &#39;x&#39;">&lt;script&gt;alert(&quot;1&quot;)&lt;/script&gt; &amp; &#39;x&#39;</p>',
    );
  });

  it('inserts markup built by html as it is, and nothing for null, undefined and false', () => {
    const inner = html`<b>${'<i>'}</b>`;

    const sut = html`<p>${inner}${[inner, inner]}${null}${undefined}${false}${0}</p>`;

    expect(sut.value).toBe('<p><b>&lt;i&gt;</b><b>&lt;i&gt;</b><b>&lt;i&gt;</b>0</p>');
    expect(sut).toBeInstanceOf(Html);
  });
});
