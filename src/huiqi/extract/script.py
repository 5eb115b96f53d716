"""Traditional characters read as simplified, one character for one, so that every offset stays the same.

Policy texts are often re-published in traditional script (mirrors, Hong Kong and Taiwan sites, converted
web pages). The extractor's patterns are written in simplified characters; ``simplified`` maps the
traditional characters of policy language (money, rates, conditions, units, places, procedure) to their
simplified forms character by character, so that the extractor can run on the mapped text while every
quote and span is taken from the text as received. The table is deliberately limited to one-to-one
characters: ambiguous ones (著, 乾, 干) are left alone.
"""

from __future__ import annotations

_TRADITIONAL = (
    "萬億與對給補貼獎勵資額實際費發證認業項個條區縣鎮過達滿於為爲並從將應當務經濟稅報審貸擔險創術開產製設備購買賣價總計劃標準"
    "級國廳財專廠園圍權續連屬關規範獲稱號後裡裏學會機構員職體處辦門間問題見覽觀視點黨閱據歲週樣種類質線網絡電話腦軟數庫戶動態"
    "環節約協調議決責紀錄帳單筆雙邊進運輸車場陽壓鄉團隊選舉適錢銀銷錯鐵長閉陸隨難雖離靈頁順預領頭顯風飛養餘館驗麼齊龍倉傳儲優"
    "兒兩勞嚴圖壞奮寬寧寶層島帶幣幫廣廢張彈徵慶憑懷戰擴擁擇擊擬敗斷時晉書東樂檢歡歐歸氣減溫測滬潤無爭現畢異療盡監盤確礎禮穩競"
    "築糧紅納紙組細終結統維綜綠緊練績織繼罰義聯聽興藝蘇衛複親觸訂討記許診詢試詳該誠說課談請論識護讓貢負貧貨賞賴贊趨軍較輔輕農"
    "這違遠遷遺還鄰醫鋼鍵鏈閣陣陳階雜雲靜須頻顧駐齡亞們倫債僅兌冊則剛勝勢匯華卻參啟圓執堅塊壯夠婦寫導尋屆崗幾彙徑復惡憶揮損換"
    "擺攜敘舊暢極樓橋檔歷漢潔災煙營獨獻畫眾礦碼積簡簽純紹絕綱編緩聲臨莊葉蓋蘭虧衝裝覺訊託訪評詞誤貫貿賃賓賠賦贈贏載輛輪轉辭遞"
    "遊釋鋪錦鎖陰隱響頂頒顆願飲馬駛騰驅鬥黃麥鹽夥僱邁銳濱礙臺灣滾斬暫漲淨涼淺濕滯澤瀏灑煉熱爾牽猶獸瓊畝瘋盧碩磚穀窮竄籌粵緝緒"
    "緯縮繳罷翹聞肅脫腫膽艙蝦蠶襲訴詐誌謀謝譯豐貞販貶賬賢賺趙躍軸輯輿轄辯遙郵鄧醞釐鈔鉛銅鋒錶鍋鎊鏡鐘閑闊闆闡隸韌頌頓頗頸顛颱"
    "飼飽餅駕騙驟髒鬆鳳鴻麗齋龜啓鈞糾紡緣縱繪纖蘊蝕褲覓訓諮謂講變讚貳賜賽贖趕跡踐輩轟迴遜邏鄭醜針鈴銘鍛鎔鑄鑑鑒閃閩閥閘闖陝陞"
    "隕雋雛雞霧靂鞏韻頃頑頰顏顥饋饑駁駭驛驢骯鬱魯鯨鳴鴨鵬鶴麵黴齒龐別強廈採係繫佈嗎盃噸夾殼槓蘋蔔礪"
)
_SIMPLIFIED = (
    "万亿与对给补贴奖励资额实际费发证认业项个条区县镇过达满于为为并从将应当务经济税报审贷担险创术开产制设备购买卖价总计划标准"
    "级国厅财专厂园围权续连属关规范获称号后里里学会机构员职体处办门间问题见览观视点党阅据岁周样种类质线网络电话脑软数库户动态"
    "环节约协调议决责纪录账单笔双边进运输车场阳压乡团队选举适钱银销错铁长闭陆随难虽离灵页顺预领头显风飞养余馆验么齐龙仓传储优"
    "儿两劳严图坏奋宽宁宝层岛带币帮广废张弹征庆凭怀战扩拥择击拟败断时晋书东乐检欢欧归气减温测沪润无争现毕异疗尽监盘确础礼稳竞"
    "筑粮红纳纸组细终结统维综绿紧练绩织继罚义联听兴艺苏卫复亲触订讨记许诊询试详该诚说课谈请论识护让贡负贫货赏赖赞趋军较辅轻农"
    "这违远迁遗还邻医钢键链阁阵陈阶杂云静须频顾驻龄亚们伦债仅兑册则刚胜势汇华却参启圆执坚块壮够妇写导寻届岗几汇径复恶忆挥损换"
    "摆携叙旧畅极楼桥档历汉洁灾烟营独献画众矿码积简签纯绍绝纲编缓声临庄叶盖兰亏冲装觉讯托访评词误贯贸赁宾赔赋赠赢载辆轮转辞递"
    "游释铺锦锁阴隐响顶颁颗愿饮马驶腾驱斗黄麦盐伙雇迈锐滨碍台湾滚斩暂涨净凉浅湿滞泽浏洒炼热尔牵犹兽琼亩疯卢硕砖谷穷窜筹粤缉绪"
    "纬缩缴罢翘闻肃脱肿胆舱虾蚕袭诉诈志谋谢译丰贞贩贬账贤赚赵跃轴辑舆辖辩遥邮邓酝厘钞铅铜锋表锅镑镜钟闲阔板阐隶韧颂顿颇颈颠台"
    "饲饱饼驾骗骤脏松凤鸿丽斋龟启钧纠纺缘纵绘纤蕴蚀裤觅训咨谓讲变赞贰赐赛赎赶迹践辈轰回逊逻郑丑针铃铭锻熔铸鉴鉴闪闽阀闸闯陕升"
    "陨隽雏鸡雾雳巩韵顷顽颊颜颢馈饥驳骇驿驴肮郁鲁鲸鸣鸭鹏鹤面霉齿庞别强厦采系系布吗杯吨夹壳杠苹卜砺"
)
_TABLE = str.maketrans(_TRADITIONAL, _SIMPLIFIED)


def simplified(text: str) -> str:
    """``text`` with its traditional characters in simplified form; the same length, offsets unchanged."""
    return text.translate(_TABLE)


def traditional_share(text: str) -> float:
    """The share of the CJK characters of ``text`` that the table maps (0 for a simplified text)."""
    cjk = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    return sum(1 for ch in cjk if ord(ch) in _TABLE) / len(cjk) if cjk else 0.0
