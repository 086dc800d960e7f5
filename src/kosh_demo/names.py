"""Name data for the demo country: native forms and the Latin forms found in passports.

Uzbek, Kyrgyz, Tajik, Russian and Kazakh names are kept in their native Cyrillic; the
Russian-style Cyrillic that hosts type and each passport romanisation are derived with
small per-language tables. The other nationalities are kept as explicit rows
`Russian Cyrillic|native Latin|PASSPORT[|native script]`.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass
from functools import cache
from typing import NotRequired, TypedDict, Unpack

# ----------------------------------------------------------------------------------------
# Transliteration tables (lowercase Cyrillic → lowercase Latin); 'е' is handled by context.

_COMMON = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "з": "z", "и": "i", "к": "k", "л": "l",
    "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f",
    "ш": "sh", "ч": "ch", "ы": "y", "ь": "", "ъ": "", "э": "e", "ц": "ts", "щ": "shch",
    " ": " ", "-": "-",
}

# Russian passports since 2014 follow ICAO 9303 (Иванов Сергей → IVANOV SERGEI).
_ICAO_RU = {**_COMMON, "е": "e", "ё": "e", "ж": "zh", "й": "i", "х": "kh", "ъ": "ie", "ю": "iu", "я": "ia"}

# Uzbek Latin as in new Uzbek passports (oʻ/gʻ lose the apostrophe in the MRZ).
_UZ = {**_COMMON, "ё": "yo", "ж": "j", "й": "y", "х": "x", "ю": "yu", "я": "ya", "ў": "o", "қ": "q",
       "ғ": "g", "ҳ": "h", "щ": "sh"}
# Uzbek Latin as typed natively, with the modifier letter turned comma.
_UZ_NATIVE = {**_UZ, "ў": "oʻ", "ғ": "gʻ", "ъ": "ʼ"}
# Older Uzbek passports mixed Uzbek Latin with Russian-style KH (ABDULLAYEV SHUKHRAT).
_UZ_KH = {**_UZ, "х": "kh", "ҳ": "kh", "қ": "k", "ў": "u"}
# Russian-style romanisation of Uzbek names (ABDULLAEV KHOLMATOV ZHURAEV).
_UZ_RU = {**_COMMON, "е": "e", "ё": "yo", "ж": "zh", "й": "y", "х": "kh", "ю": "yu", "я": "ya",
          "ў": "u", "қ": "k", "ғ": "g", "ҳ": "kh"}

# Kyrgyz passports: GOST-like (ABDYKADYROV, ZHEENBEKOV, AIGUL) and an older J/Y style.
_KG = {**_COMMON, "е": "e", "ё": "io", "ж": "zh", "й": "i", "х": "kh", "ю": "iu", "я": "ia",
       "ң": "n", "ө": "o", "ү": "u"}
_KG_OLD = {**_KG, "ё": "yo", "ж": "j", "й": "y", "ю": "yu", "я": "ya"}

# Tajik passports: Russian style (RAKHIMOV DZHAMSHED) and the newer one (RAHIMOV JAMSHED).
_TJ_RU = {**_COMMON, "е": "e", "ё": "yo", "ж": "zh", "й": "y", "х": "kh", "ю": "yu", "я": "ya",
          "ҳ": "kh", "ҷ": "dzh", "қ": "k", "ғ": "g", "ӣ": "i", "ӯ": "u"}
_TJ_NEW = {**_TJ_RU, "ҳ": "h", "ҷ": "j", "қ": "q", "ғ": "gh"}

_SCHEMES: dict[str, dict[str, str]] = {
    "icao": _ICAO_RU, "uz": _UZ, "uz_native": _UZ_NATIVE, "uz_kh": _UZ_KH, "uz_ru": _UZ_RU,
    "kg": _KG, "kg_old": _KG_OLD, "tj_ru": _TJ_RU, "tj_new": _TJ_NEW,
}
# Schemes that write 'е' as 'ye' at the start of a word and after a vowel (Abdullayev).
_YE_SCHEMES = {"uz", "uz_native", "uz_kh"}
_VOWELS = set("аеёиоуыэюяўөүӣӯ")

# Native Cyrillic → the Russian-style Cyrillic a Kazakh host types.
_TO_RU = {
    "UZB": str.maketrans({"ў": "у", "қ": "к", "ғ": "г", "ҳ": "х", "Ў": "У", "Қ": "К", "Ғ": "Г", "Ҳ": "Х"}),
    "KGZ": str.maketrans({"ң": "н", "ө": "о", "ү": "у", "Ң": "Н", "Ө": "О", "Ү": "У"}),
    "TJK": str.maketrans({"ҳ": "х", "ҷ": "дж", "қ": "к", "ғ": "г", "ӣ": "и", "ӯ": "у",
                          "Ҳ": "Х", "Ҷ": "Дж", "Қ": "К", "Ғ": "Г", "Ӣ": "И", "Ӯ": "У"}),
}


@cache
def translit(text: str, scheme: str) -> str:
    """Lowercase Latin romanisation of a Cyrillic name under one of the passport schemes."""
    table = _SCHEMES[scheme]
    ye = scheme in _YE_SCHEMES
    out = []
    prev = " "
    for ch in text.lower():
        if ch == "е":
            out.append("ye" if ye and (prev in _VOWELS or prev in " -ъь") else "e")
        else:
            out.append(table.get(ch, ch))
        prev = ch
    return "".join(out)


def passport_form(text: str, scheme: str) -> str:
    """The MRZ-style uppercase form: apostrophes dropped (Oʻ → O)."""
    return translit(text, scheme).upper().replace("ʻ", "").replace("ʼ", "").replace("'", "")


def title(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))


def icao(text: str) -> str:
    """ICAO 9303 form of a Russian-style Cyrillic name (used for Russian passports)."""
    return passport_form(text, "icao")


# ----------------------------------------------------------------------------------------
# Name data. Cyrillic lists are native spellings, most frequent first.

UZB_SURNAMES = """
Абдуллаев Юсупов Холматов Каримов Раҳимов Тошматов Эргашев Қодиров Усмонов Турсунов Исмоилов
Алиев Мирзаев Назаров Саидов Султонов Ҳасанов Жўраев Норматов Раҳмонов Абдураҳмонов Маҳмудов
Аҳмедов Бобоев Тўхтаев Қосимов Ғуломов Юлдашев Нуриддинов Шарипов Собиров Умаров Файзуллаев
Хўжаев Мавлонов Иброҳимов Олимов Азимов Баҳромов Ҳайдаров Зокиров Неъматов Мамадалиев Холиқов
Эшонқулов
"""
UZB_MALE = """
Шуҳрат Бахтиёр Алишер Жамшид Улуғбек Рустам Фарҳод Достон Сардор Бобур Отабек Азизбек Шерзод
Дилшод Ботир Акмал Анвар Бекзод Жасур Ислом Комил Мансур Нодир Одил Равшан Санжар Темур Тоҳир
Ўткир Хуршид Зафар Баҳодир Эркин Шавкат Абдулла Ҳамид Илҳом Муҳаммад Ойбек Ғайрат Жавлон Элёр
Шоҳрух Нурбек Ҳусан
"""
UZB_FEMALE = """
Гулнора Дилноза Шаҳноза Нилуфар Мадина Зарина Феруза Моҳира Дилфуза Гулчеҳра Малика Нигора
Севара Умида Юлдуз Лола Ҳилола Мунира Наргиза Саодат Зулфия Дилором Шоира Гавҳар
"""

KGZ_SURNAMES = """
Абдыкадыров Асанов Токтогулов Жээнбеков Өмүрбеков Үсөнов Мамытов Осмонов Сыдыков Бейшеналиев
Жумабеков Кадыров Алымкулов Токтосунов Мамбетов Сатыбалдиев Абдраимов Эсенгулов Турдубаев
Кенжебаев Орозбеков Дүйшөнбеков Эркинбеков Шаршенов Бакиров Исаков Султаналиев Молдокулов
Тыныбеков Акматов Бообеков Чотонов Үмөталиев
"""
KGZ_MALE = """
Нурлан Азамат Бакыт Эрлан Кубанычбек Айбек Улан Адилет Мирлан Таалай Чыңгыз Эрмек Бектур
Жаныбек Нурбек Медер Темирлан Алмаз Данияр Бекжан Үмүтбек Өмүрбек Султан Рустам Канат Самат
Эмил Нурсултан Жоомарт Акылбек Калыбек Урмат
"""
KGZ_FEMALE = """
Айгүл Жылдыз Нургүл Айжан Бермет Гүлзат Динара Асел Айзада Назира Чолпон Гүлнара Мээрим Айпери
Элнура Жазгүл Айнура Гүлмира
"""

TJK_SURNAMES = """
Раҳимов Каримов Шарипов Назаров Сафаров Қурбонов Ғафуров Давлатов Ҳакимов Саидов Раҳмонов
Мирзоев Азизов Ҷӯраев Зиёев Одинаев Юсуфов Холов Бобоев Шарифов Раҳимзода Каримзода Сафарзода
Давлатзода Ҳасанзода Мирзозода Шарифзода Назарзода Қодиров Амиров Исмоилов Абдуллоев
"""
TJK_MALE = """
Ҷамшед Фирдавс Далер Бахтиёр Умед Шоҳрух Фаридун Ҳусейн Баҳром Исмоил Комрон Манучеҳр Носир
Рустам Сино Сӯҳроб Фаррух Хуршед Шерали Зафар Алишер Абдулло Илҳом Парвиз Сорбон Озод Меҳроҷ
Навруз Беҳзод Исфандиёр Шаҳбоз Ҷонибек
"""
TJK_FEMALE = """
Мадина Нигина Зарина Гулноза Парвина Меҳрона Шаҳло Фарзона Дилноза Сабрина Малика Ситора Таҳмина
Мунира Нилуфар Фотима Зебо
"""

RUS_SURNAMES = """
Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов Волков
Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев Макаров Никитин
Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв Сергеев Кузьмин Фролов
Александров Дмитриев Королёв Гусев Киселёв Ильин Белов Тарасов Жуков Шевченко Бондаренко Ткаченко
"""
RUS_MALE = """
Сергей Александр Дмитрий Андрей Алексей Максим Евгений Иван Михаил Артём Никита Денис Владимир
Павел Роман Антон Игорь Олег Николай Кирилл Илья Юрий Виктор Константин Вадим Егор Тимур Руслан
Станислав Григорий Пётр Фёдор Георгий Василий Даниил Ярослав
"""
RUS_FEMALE = """
Анна Елена Ольга Наталья Екатерина Татьяна Мария Ирина Светлана Юлия Анастасия Дарья Ксения
Марина Виктория Евгения Алина Полина Людмила Валентина Надежда Вера Софья Александра Галина
"""

# Kazakh hosts (individuals), as written in Kazakh ID documents' Russian fields.
KAZ_SURNAMES = """
Ахметов Сарсенбаев Нурланов Жумабаев Касымов Оспанов Искаков Султанов Бекмуханов Кенжебаев Абенов
Тулегенов Омаров Байжанов Ермеков Нуркенов Жаксылыков Муканов Смагулов Калиев Есенов Абдрахманов
Тлеубаев Иванов Ким Шевченко
"""
KAZ_MALE = """
Ерлан Нурлан Бауыржан Асхат Даурен Серик Ержан Марат Кайрат Талгат Ербол Арман Данияр Айдос
Руслан Мейрам Бахыт Асет
"""
KAZ_FEMALE = """
Айгуль Гульнара Динара Жанар Салтанат Асель Мадина Гульмира Сауле Алия Жанна Лаура Айнур
"""

AZE_SURNAMES = """
Мамедов|Məmmədov|MAMMADOV
Алиев|Əliyev|ALIYEV
Гусейнов|Hüseynov|HUSEYNOV
Гасанов|Həsənov|HASANOV
Кулиев|Quliyev|GULIYEV
Исмаилов|İsmayılov|ISMAYILOV
Аббасов|Abbasov|ABBASOV
Джафаров|Cəfərov|JAFAROV
Рзаев|Rzayev|RZAYEV
Бабаев|Babayev|BABAYEV
Насиров|Nəsirov|NASIROV
Сулейманов|Süleymanov|SULEYMANOV
Керимов|Kərimov|KARIMOV
Мусаев|Musayev|MUSAYEV
Оруджев|Orucov|ORUJOV
Касумов|Qasımov|GASIMOV
Велиев|Vəliyev|VALIYEV
Багиров|Bağırov|BAGIROV
Ахмедов|Əhmədov|AHMADOV
Садыхов|Sadıqov|SADIGOV
"""
AZE_MALE = """
Эльчин|Elçin|ELCHIN
Рашад|Rəşad|RASHAD
Турал|Tural|TURAL
Орхан|Orxan|ORKHAN
Эльнур|Elnur|ELNUR
Анар|Anar|ANAR
Рамиль|Ramil|RAMIL
Вугар|Vüqar|VUGAR
Камран|Kamran|KAMRAN
Фарид|Fərid|FARID
Самед|Səməd|SAMAD
Али|Əli|ALI
Эльвин|Elvin|ELVIN
Рауф|Rauf|RAUF
Ниджат|Nicat|NIJAT
Эмиль|Emil|EMIL
Джавид|Cavid|JAVID
"""
AZE_FEMALE = """
Айнур|Aynur|AYNUR
Гюнай|Günay|GUNAY
Лейла|Leyla|LEYLA
Наргиз|Nərgiz|NARGIZ
Айсель|Aysel|AYSEL
Севиндж|Sevinc|SEVINJ
Кёнуль|Könül|KONUL
Ульвия|Ülviyyə|ULVIYYA
"""

TUR_SURNAMES = """
Йылмаз|Yılmaz|YILMAZ
Кая|Kaya|KAYA
Демир|Demir|DEMIR
Шахин|Şahin|SAHIN
Челик|Çelik|CELIK
Йылдыз|Yıldız|YILDIZ
Йылдырым|Yıldırım|YILDIRIM
Озтюрк|Öztürk|OZTURK
Айдын|Aydın|AYDIN
Оздемир|Özdemir|OZDEMIR
Арслан|Arslan|ARSLAN
Доган|Doğan|DOGAN
Кылыч|Kılıç|KILIC
Аслан|Aslan|ASLAN
Четин|Çetin|CETIN
Кара|Kara|KARA
Коч|Koç|KOC
Курт|Kurt|KURT
Озкан|Özkan|OZKAN
Шимшек|Şimşek|SIMSEK
"""
TUR_MALE = """
Мехмет|Mehmet|MEHMET
Мустафа|Mustafa|MUSTAFA
Ахмет|Ahmet|AHMET
Али|Ali|ALI
Хусейн|Hüseyin|HUSEYIN
Хасан|Hasan|HASAN
Ибрагим|İbrahim|IBRAHIM
Мурат|Murat|MURAT
Эмре|Emre|EMRE
Бурак|Burak|BURAK
Серкан|Serkan|SERKAN
Онур|Onur|ONUR
Юсуф|Yusuf|YUSUF
Омер|Ömer|OMER
Фатих|Fatih|FATIH
"""
TUR_FEMALE = """
Айше|Ayşe|AYSE
Фатма|Fatma|FATMA
Зейнеп|Zeynep|ZEYNEP
Элиф|Elif|ELIF
Эмине|Emine|EMINE
Мерве|Merve|MERVE
Хатидже|Hatice|HATICE
"""

IND_SURNAMES = """
Шарма|Sharma|SHARMA
Сингх|Singh|SINGH
Кумар|Kumar|KUMAR
Патель|Patel|PATEL
Гупта|Gupta|GUPTA
Редди|Reddy|REDDY
Ядав|Yadav|YADAV
Верма|Verma|VERMA
Хан|Khan|KHAN
Наир|Nair|NAIR
Дас|Das|DAS
Джоши|Joshi|JOSHI
Мишра|Mishra|MISHRA
Айер|Iyer|IYER
Чаухан|Chauhan|CHAUHAN
"""
IND_MALE = """
Рахул|Rahul|RAHUL
Амит|Amit|AMIT
Раджеш|Rajesh|RAJESH
Викрам|Vikram|VIKRAM
Арджун|Arjun|ARJUN
Суреш|Suresh|SURESH
Рохит|Rohit|ROHIT
Санджай|Sanjay|SANJAY
Анил|Anil|ANIL
Дипак|Deepak|DEEPAK
Каран|Karan|KARAN
Маниш|Manish|MANISH
"""
IND_FEMALE = """
Прия|Priya|PRIYA
Анджали|Anjali|ANJALI
Пуджа|Pooja|POOJA
Неха|Neha|NEHA
Дивья|Divya|DIVYA
Снеха|Sneha|SNEHA
"""

TKM_SURNAMES = """
Аннаев|Annaýew|ANNAYEV
Бердыев|Berdiýew|BERDIYEV
Овезов|Öwezow|OVEZOV
Атаев|Ataýew|ATAYEV
Чарыев|Çaryýew|CHARYYEV
Мередов|Meredow|MEREDOV
Гурбанов|Gurbanow|GURBANOV
Язмурадов|Ýazmyradow|YAZMYRADOV
Аманов|Amanow|AMANOV
Нурыев|Nuryýew|NURYYEV
Ходжаев|Hojaýew|HOJAYEV
Бабаев|Babaýew|BABAYEV
"""
TKM_MALE = """
Мерген|Mergen|MERGEN
Аман|Aman|AMAN
Бегенч|Begenç|BEGENCH
Довлет|Döwlet|DOVLET
Сердар|Serdar|SERDAR
Максат|Maksat|MAKSAT
Батыр|Batyr|BATYR
Мекан|Mekan|MEKAN
Арслан|Arslan|ARSLAN
Розы|Rozy|ROZY
"""
TKM_FEMALE = """
Огулджан|Oguljan|OGULJAN
Майса|Maýsa|MAYSA
Дженнет|Jennet|JENNET
Гулшат|Gülşat|GULSHAT
Айна|Aýna|AYNA
"""

AFG_SURNAMES = """
Ахмади|Ahmadi|AHMADI
Хайдари|Haidari|HAIDARI
Рахими|Rahimi|RAHIMI
Карими|Karimi|KARIMI
Хусайни|Hussaini|HUSSAINI
Мохаммади|Mohammadi|MOHAMMADI
Сафи|Safi|SAFI
Юсуфзай|Yousafzai|YOUSAFZAI
Нури|Noori|NOORI
Амири|Amiri|AMIRI
"""
AFG_MALE = """
Мохаммад|Mohammad|MOHAMMAD
Ахмад|Ahmad|AHMAD
Абдул|Abdul|ABDUL
Хамид|Hamid|HAMID
Навид|Navid|NAVID
Фарид|Farid|FARID
Рахматулла|Rahmatullah|RAHMATULLAH
Шафик|Shafiq|SHAFIQ
Джавид|Jawid|JAWID
Наджибулла|Najibullah|NAJIBULLAH
"""
AFG_FEMALE = """
Фатима|Fatima|FATIMA
Марьям|Maryam|MARYAM
Захра|Zahra|ZAHRA
Фариба|Fariba|FARIBA
Мурсал|Mursal|MURSAL
"""

# German MRZ writes umlauts as AE/OE/UE.
DEU_SURNAMES = """
Мюллер|Müller|MUELLER
Шмидт|Schmidt|SCHMIDT
Шнайдер|Schneider|SCHNEIDER
Фишер|Fischer|FISCHER
Вебер|Weber|WEBER
Майер|Meyer|MEYER
Вагнер|Wagner|WAGNER
Беккер|Becker|BECKER
Шульц|Schulz|SCHULZ
Хоффманн|Hoffmann|HOFFMANN
Кох|Koch|KOCH
Шефер|Schäfer|SCHAEFER
Вольф|Wolf|WOLF
Бауэр|Bauer|BAUER
Крюгер|Krüger|KRUEGER
Рихтер|Richter|RICHTER
"""
DEU_MALE = """
Томас|Thomas|THOMAS
Михаэль|Michael|MICHAEL
Андреас|Andreas|ANDREAS
Штефан|Stefan|STEFAN
Александр|Alexander|ALEXANDER
Юрген|Jürgen|JUERGEN
Маркус|Markus|MARKUS
Ян|Jan|JAN
Лукас|Lukas|LUKAS
Тобиас|Tobias|TOBIAS
"""
DEU_FEMALE = """
Анна|Anna|ANNA
Юлия|Julia|JULIA
Катарина|Katharina|KATHARINA
Сабина|Sabine|SABINE
Лена|Lena|LENA
Моника|Monika|MONIKA
"""

KOR_SURNAMES = """
Ким|Kim|KIM|김
Ли|Lee|LEE|이
Пак|Park|PARK|박
Цой|Choi|CHOI|최
Чон|Jung|JUNG|정
Кан|Kang|KANG|강
Чо|Cho|CHO|조
Юн|Yoon|YOON|윤
Чан|Jang|JANG|장
Лим|Lim|LIM|임
Хан|Han|HAN|한
Шин|Shin|SHIN|신
"""
KOR_MALE = """
Минхо|Minho|MINHO|민호
Джихун|Jihoon|JIHOON|지훈
Сонмин|Sungmin|SUNGMIN|성민
Хёну|Hyunwoo|HYUNWOO|현우
Джунхо|Junho|JUNHO|준호
Донхён|Donghyun|DONGHYUN|동현
Сынхо|Seungho|SEUNGHO|승호
"""
KOR_FEMALE = """
Джиён|Jiyeon|JIYEON|지연
Минджи|Minji|MINJI|민지
Соён|Soyoung|SOYOUNG|소영
Ынджи|Eunji|EUNJI|은지
Хеджин|Hyejin|HYEJIN|혜진
"""

# Chinese: Russian (Palladius) transcription | pinyin | PASSPORT | characters.
CHN_SURNAMES = """
Ван|Wang|WANG|王
Ли|Li|LI|李
Чжан|Zhang|ZHANG|张
Лю|Liu|LIU|刘
Чэнь|Chen|CHEN|陈
Ян|Yang|YANG|杨
Хуан|Huang|HUANG|黄
Чжао|Zhao|ZHAO|赵
У|Wu|WU|吴
Чжоу|Zhou|ZHOU|周
Сюй|Xu|XU|徐
Сунь|Sun|SUN|孙
Ма|Ma|MA|马
Чжу|Zhu|ZHU|朱
Ху|Hu|HU|胡
Го|Guo|GUO|郭
Хэ|He|HE|何
Гао|Gao|GAO|高
Линь|Lin|LIN|林
Ло|Luo|LUO|罗
Чжэн|Zheng|ZHENG|郑
Лян|Liang|LIANG|梁
Се|Xie|XIE|谢
Сун|Song|SONG|宋
Тан|Tang|TANG|唐
Хань|Han|HAN|韩
Фэн|Feng|FENG|冯
Дэн|Deng|DENG|邓
Цао|Cao|CAO|曹
Пэн|Peng|PENG|彭
"""
CHN_MALE = """
Лэй|Lei|LEI|磊
Вэй|Wei|WEI|伟
Цзюнь|Jun|JUN|军
Юн|Yong|YONG|勇
Цян|Qiang|QIANG|强
Цзе|Jie|JIE|杰
Тао|Tao|TAO|涛
Мин|Ming|MING|明
Хао|Hao|HAO|浩
Бо|Bo|BO|波
Хуэй|Hui|HUI|辉
Ган|Gang|GANG|刚
Пэн|Peng|PENG|鹏
Фэй|Fei|FEI|飞
Чао|Chao|CHAO|超
Цзяньго|Jianguo|JIANGUO|建国
Чжицян|Zhiqiang|ZHIQIANG|志强
Хайтао|Haitao|HAITAO|海涛
Вэньцзе|Wenjie|WENJIE|文杰
Давэй|Dawei|DAWEI|大伟
Цзяньхуа|Jianhua|JIANHUA|建华
Гопин|Guoping|GUOPING|国平
Сяодун|Xiaodong|XIAODONG|晓东
Цзюньцзе|Junjie|JUNJIE|俊杰
Юйхан|Yuhang|YUHANG|宇航
"""
CHN_FEMALE = """
Фан|Fang|FANG|芳
Ли|Li|LI|丽
На|Na|NA|娜
Минь|Min|MIN|敏
Цзин|Jing|JING|静
Янь|Yan|YAN|燕
Сюин|Xiuying|XIUYING|秀英
Хун|Hong|HONG|红
Ин|Ying|YING|英
Лань|Lan|LAN|兰
Мэй|Mei|MEI|梅
Цзюань|Juan|JUAN|娟
Сяоли|Xiaoli|XIAOLI|晓丽
Лицзюань|Lijuan|LIJUAN|丽娟
Сюэ|Xue|XUE|雪
"""

# Patronymic stems that do not follow the regular rule.
_PATRONYMIC_STEMS = {
    "Дмитрий": "Дмитриев", "Юрий": "Юрьев", "Григорий": "Григорьев", "Василий": "Васильев",
    "Георгий": "Георгиев", "Евгений": "Евгеньев", "Пётр": "Петров",
}
_PATRONYMIC_WHOLE = {"Илья": ("Ильич", "Ильинична"), "Никита": ("Никитич", "Никитична")}


def patronymic(father: str, sex: str) -> str:
    """Russian-style patronymic from a father's given name (Бахтиёр → Бахтиёрович / Бахтиёровна)."""
    whole = _PATRONYMIC_WHOLE.get(father)
    if whole:
        return whole[0] if sex == "M" else whole[1]
    stem = _PATRONYMIC_STEMS.get(father)
    if stem is None:
        last = father[-1]
        if last in "йь":
            stem = father[:-1] + "ев"
        elif last in "аяиоуэ":
            stem = father + "ев"
        elif last in "жшчщц":
            stem = father + "ев"
        else:
            stem = father + "ов"
    return stem + ("ич" if sex == "M" else "на")


# ----------------------------------------------------------------------------------------
# Tables


@dataclass(frozen=True, slots=True)
class Entry:
    """One name in every form: Russian-style Cyrillic, native script, native Latin, passports."""

    ru: str
    native: str  # native script when it differs from the Russian-style Cyrillic, else ''
    latin: str  # native Latin spelling, else ''
    passport: tuple[tuple[str, str], ...]  # (scheme, UPPERCASE) pairs


@dataclass(slots=True)
class PersonName:
    ru: tuple[str, str]  # (surname, given names) as a Kazakh host types them in Cyrillic
    native: tuple[str, str] | None  # native script (Uzbek/Kyrgyz/Tajik Cyrillic, 王磊, 김민호)
    latin: tuple[str, str] | None  # native Latin (Uzbek Latin, Azerbaijani, Turkish, pinyin …)
    patronymic: str  # Russian-style, '' when the nationality has none
    passport: dict[str, tuple[str, str]]  # scheme → (SURNAME, GIVEN NAMES) as in the MRZ


_FEMININE_ENDINGS = ("ов", "ев", "ёв", "ин")


def _derived(native: str, code: str, schemes: tuple[str, ...]) -> Entry:
    ru = native.translate(_TO_RU[code]) if code in _TO_RU else native
    latin = title(translit(native, "uz_native")) if code == "UZB" else ""
    return Entry(ru, native if native != ru else "", latin,
                 tuple((s, passport_form(ru if s in ("icao", "uz_ru") else native, s)) for s in schemes))


def _feminine(entry: Entry) -> Entry:
    if not entry.ru.endswith(_FEMININE_ENDINGS):
        return entry
    return Entry(entry.ru + "а", entry.native + "а" if entry.native else "",
                 entry.latin + "a" if entry.latin else "",
                 tuple((s, p + "A") for s, p in entry.passport))


def _rows(text: str) -> list[tuple[str, ...]]:
    return [tuple(line.split("|")) for line in text.strip().splitlines()]


def _weights(n: int) -> list[float]:
    # Zipf-like: a few surnames are very common, which is what makes matching hard.
    return list(itertools.accumulate(1.0 / (rank + 4) for rank in range(n)))


class Nationality:
    """Name tables of one nationality and how its passports romanise them."""

    def __init__(self, code: str, surnames: list[Entry], male: list[Entry], female: list[Entry],
                 schemes: tuple[tuple[str, float], ...], gendered: bool, has_patronymic: bool,
                 uulu_share: float = 0.0) -> None:
        self.code = code
        self.surnames = surnames
        self.surnames_f = [_feminine(e) for e in surnames] if gendered else surnames
        self.male, self.female = male, female
        self.schemes = schemes
        self.has_patronymic = has_patronymic
        self.uulu_share = uulu_share
        self._cum_s = _weights(len(surnames))
        self._cum_m = _weights(len(male))
        self._cum_f = _weights(len(female))
        self._scheme_cum = list(itertools.accumulate(w for _, w in schemes))

    def _pick(self, rng: random.Random, items: list[Entry], cum: list[float]) -> Entry:
        return items[bisect.bisect_right(cum, rng.random() * cum[-1])]

    def scheme(self, rng: random.Random) -> str:
        """A passport romanisation scheme drawn with its share."""
        cum = self._scheme_cum
        return self.schemes[bisect.bisect_right(cum, rng.random() * cum[-1])][0]

    def draw(self, rng: random.Random, sex: str) -> PersonName:
        female = sex == "F"
        given = self._pick(rng, self.female if female else self.male, self._cum_f if female else self._cum_m)
        father = self._pick(rng, self.male, self._cum_m)
        if self.uulu_share and rng.random() < self.uulu_share:
            # Kyrgyz "son/daughter of" surnames: Кубанычбек уулу / KUBANYCHBEK UULU.
            word = " кызы" if female else " уулу"
            surname = _derived(
                (father.native or father.ru) + word, self.code, tuple(s for s, _ in self.schemes))
            patr = ""
        else:
            surname = self._pick(rng, self.surnames_f if female else self.surnames, self._cum_s)
            patr = patronymic(father.ru, sex) if self.has_patronymic else ""
        sp, gp = dict(surname.passport), dict(given.passport)
        native = ((surname.native or surname.ru, given.native or given.ru)
                  if (surname.native or given.native) else None)
        latin = (surname.latin, given.latin) if surname.latin and given.latin else None
        return PersonName((surname.ru, given.ru), native, latin, patr, {s: (sp[s], gp[s]) for s in sp})


class _TableOptions(TypedDict):
    gendered: bool
    has_patronymic: bool
    uulu_share: NotRequired[float]


def _derived_table(code: str, surnames: str, male: str, female: str,
                   schemes: tuple[tuple[str, float], ...], **kw: Unpack[_TableOptions]) -> Nationality:
    names = tuple(s for s, _ in schemes)

    def build(text: str) -> list[Entry]:
        return [_derived(w, code, names) for w in text.split()]

    return Nationality(code, build(surnames), build(male), build(female), schemes, **kw)


def _listed_table(code: str, surnames: str, male: str, female: str, **kw: Unpack[_TableOptions]) -> Nationality:
    def build(text: str) -> list[Entry]:
        out = []
        for row in _rows(text):
            ru, latin, passport = row[0], row[1], row[2]
            native = row[3] if len(row) > 3 else ""
            out.append(Entry(ru, native, latin, (("std", passport),)))
        return out

    return Nationality(code, build(surnames), build(male), build(female), (("std", 1.0),), **kw)


NATIONALITIES: dict[str, Nationality] = {
    "UZB": _derived_table("UZB", UZB_SURNAMES, UZB_MALE, UZB_FEMALE,
                          (("uz", 0.5), ("uz_kh", 0.3), ("uz_ru", 0.2)), gendered=True, has_patronymic=True),
    "KGZ": _derived_table("KGZ", KGZ_SURNAMES, KGZ_MALE, KGZ_FEMALE, (("kg", 0.7), ("kg_old", 0.3)),
                          gendered=True, has_patronymic=True, uulu_share=0.15),
    "TJK": _derived_table("TJK", TJK_SURNAMES, TJK_MALE, TJK_FEMALE, (("tj_ru", 0.5), ("tj_new", 0.5)),
                          gendered=True, has_patronymic=True),
    "RUS": _derived_table("RUS", RUS_SURNAMES, RUS_MALE, RUS_FEMALE, (("icao", 1.0),),
                          gendered=True, has_patronymic=True),
    "CHN": _listed_table("CHN", CHN_SURNAMES, CHN_MALE, CHN_FEMALE, gendered=False, has_patronymic=False),
    "AZE": _listed_table("AZE", AZE_SURNAMES, AZE_MALE, AZE_FEMALE, gendered=True, has_patronymic=True),
    "TUR": _listed_table("TUR", TUR_SURNAMES, TUR_MALE, TUR_FEMALE, gendered=False, has_patronymic=False),
    "IND": _listed_table("IND", IND_SURNAMES, IND_MALE, IND_FEMALE, gendered=False, has_patronymic=False),
    "TKM": _listed_table("TKM", TKM_SURNAMES, TKM_MALE, TKM_FEMALE, gendered=True, has_patronymic=True),
    "AFG": _listed_table("AFG", AFG_SURNAMES, AFG_MALE, AFG_FEMALE, gendered=False, has_patronymic=False),
    "DEU": _listed_table("DEU", DEU_SURNAMES, DEU_MALE, DEU_FEMALE, gendered=False, has_patronymic=False),
    "KOR": _listed_table("KOR", KOR_SURNAMES, KOR_MALE, KOR_FEMALE, gendered=False, has_patronymic=False),
}

# Kazakh citizens who host foreigners (Russian-style Cyrillic, as typed in the host's own record).
KAZAKH_HOSTS = _derived_table("KAZ", KAZ_SURNAMES, KAZ_MALE, KAZ_FEMALE, (("icao", 1.0),),
                              gendered=True, has_patronymic=True)
