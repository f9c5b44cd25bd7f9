"""Texts that reach the screens as data (enum values of the catalogue and the session).

``N_`` marks them for the catalog-completeness test without translating at import time;
screens translate them with ``ui.t(value)`` when they draw.
"""

from __future__ import annotations


def N_(msgid: str) -> str:
    return msgid


DATA_MSGIDS = (
    # ScopeKind
    N_("跨省通办"), N_("全省通办"), N_("全市通办"), N_("区域通办"),
    # Mode
    N_("全程网办"), N_("异地代收代办"), N_("多地联办"),
    # Necessity
    N_("必要"), N_("非必要"), N_("容缺"),
    # OriginalOrCopy
    N_("原件"), N_("复印件"), N_("原件和复印件"),
    # CaseType
    N_("即办件"), N_("承诺件"), N_("联办件"),
    # DeliveryOption
    N_("窗口自取"), N_("邮寄"), N_("电子送达"),
    # LifeEvent
    N_("户籍迁移"), N_("婚姻生育"), N_("社保就业"), N_("医疗就医"), N_("住房置业"),
    N_("养老退休"), N_("证件证明"), N_("开办企业"), N_("其他"),
    # Rating (GB/T 39734-2020)
    N_("非常满意"), N_("满意"), N_("基本满意"), N_("不满意"), N_("非常不满意"),
)
