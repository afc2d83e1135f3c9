"""Export the traditional -> simplified character table used by :func:`router.engine.text.normalise`.

    python -m router.engine.charmap

Reads ``zhconv``'s zh-Hans dictionary (a training-only dependency) and keeps its single-character entries, plus a
few overrides where the dictionary's character entry is not the reading a hotline report almost always means
(``著火`` is ``着火``; ``裏``/``裡`` are ``里``). The table is committed, so run time needs no conversion library.
"""

from __future__ import annotations

import json

from router.engine.text import CHARMAP_FILE

OVERRIDES = {"著": "着", "裏": "里", "裡": "里", "喫": "吃", "羣": "群", "牀": "床", "麪": "面", "衞": "卫",
             "囪": "囱", "汙": "污", "洩": "泄", "臺": "台", "檯": "台", "颱": "台", "瞭": "了", "乾": "干",
             "髮": "发", "鬆": "松", "隻": "只", "週": "周", "佔": "占", "鍾": "钟", "夥": "伙", "纔": "才",
             "嚮": "向", "甦": "苏", "擡": "抬", "噹": "当", "閒": "闲", "於": "于", "爲": "为", "傢": "家"}


def build() -> dict[str, str]:
    import zhconv.zhconv as zhconv

    table = zhconv.getdict("zh-hans") if hasattr(zhconv, "getdict") else zhconv.loaddict()
    mapping = {k: v for k, v in table.items() if len(k) == 1 and len(v) == 1 and k != v}
    mapping.update(OVERRIDES)
    return dict(sorted(mapping.items()))


def main() -> None:
    mapping = build()
    CHARMAP_FILE.write_text(json.dumps(mapping, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{CHARMAP_FILE}: {len(mapping)} characters")


if __name__ == "__main__":
    main()
