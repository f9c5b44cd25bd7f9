"""The 民族 codes on resident ID cards (GB 3304), as the card prints them (without 族)."""

from __future__ import annotations

_NAMES = (  # noqa: SIM905 - a line of names reads better than 56 quoted items
    "汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 "
    "拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 "
    "塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺"
).split()
NATIONS = {f"{n:02d}": name for n, name in enumerate(_NAMES, start=1)}
NATIONS["97"] = "其他"
NATIONS["98"] = "外国血统中国籍人士"


def nation_name(code: str) -> str:
    """The name for a two-digit code; an unknown code is shown as it is (vendor tables
    disagree past 56, and a wrong name is worse than the number)."""
    return NATIONS.get(code, code)


def nation_code(name: str) -> str:
    for code, known in NATIONS.items():
        if known == name or known + "族" == name:
            return code
    raise KeyError(name)
