"""Offline copy: a small phrase bank per language, good enough to demonstrate.

`{product}` is replaced by the product's name; phrases are short enough that at least one
of each kind fits every platform's limits (tests check every language on every platform).
"""

from __future__ import annotations

# language -> kind -> phrases (headline, primary_text, cta)
PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "headline": (
            "{product}, made for you",
            "New look, same trust",
            "Try it today",
            "A festive special",
        ),
        "primary_text": (
            "Make every day special with {product}. Limited-time offer.",
            "{product}: quality you can trust, delivered to your door.",
            "Order now and get it delivered home.",
        ),
        "cta": ("Shop now", "Learn more", "Order now"),
    },
    "hi": {
        "headline": (
            "आपके लिए {product}",
            "नया अंदाज़, वही भरोसा",
            "आज ही आज़माएँ",
            "त्योहार की खास पेशकश",
        ),
        "primary_text": (
            "{product} के साथ हर दिन को खास बनाएँ। सीमित समय का ऑफ़र।",
            "{product}: गुणवत्ता जिस पर आप भरोसा कर सकें।",
            "अभी ऑर्डर करें और घर बैठे पाएँ।",
        ),
        "cta": ("अभी खरीदें", "और जानें", "ऑर्डर करें"),
    },
    "bn": {
        "headline": ("আপনার জন্য {product}", "নতুন রূপে, একই ভরসা", "আজই চেষ্টা করুন", "উৎসবের বিশেষ অফার"),
        "primary_text": (
            "{product} দিয়ে প্রতিটি দিন হোক বিশেষ। সীমিত সময়ের অফার।",
            "{product}: ভরসার মান, আপনার দোরগোড়ায়।",
            "এখনই অর্ডার করুন, ঘরে বসে পান।",
        ),
        "cta": ("এখনই কিনুন", "আরও জানুন", "অর্ডার করুন"),
    },
    "ta": {
        "headline": (
            "உங்களுக்காக {product}",
            "புதிய தோற்றம், அதே நம்பிக்கை",
            "இன்றே முயற்சியுங்கள்",
            "பண்டிகை சலுகை",
        ),
        "primary_text": (
            "{product} உடன் ஒவ்வொரு நாளும் சிறப்பு. குறுகிய கால சலுகை.",
            "{product}: நம்பகமான தரம்.",
            "இப்போதே ஆர்டர் செய்யுங்கள், வீட்டிலேயே பெறுங்கள்.",
        ),
        "cta": ("இப்போது வாங்க", "மேலும் அறிய", "ஆர்டர் செய்ய"),
    },
    "te": {
        "headline": ("మీ కోసం {product}", "కొత్త రూపం, అదే నమ్మకం", "ఈరోజే ప్రయత్నించండి", "పండుగ ప్రత్యేక ఆఫర్"),
        "primary_text": (
            "{product} తో ప్రతి రోజు ప్రత్యేకం. పరిమిత కాల ఆఫర్.",
            "{product}: నమ్మదగిన నాణ్యత.",
            "ఇప్పుడే ఆర్డర్ చేయండి, ఇంటికే పొందండి.",
        ),
        "cta": ("ఇప్పుడే కొనండి", "మరింత తెలుసుకోండి", "ఆర్డర్ చేయండి"),
    },
    "mr": {
        "headline": (
            "तुमच्यासाठी {product}",
            "नवा अंदाज, तोच विश्वास",
            "आजच वापरून पाहा",
            "सणाची खास ऑफर",
        ),
        "primary_text": (
            "{product} सोबत प्रत्येक दिवस खास बनवा. मर्यादित काळाची ऑफर.",
            "{product}: विश्वासार्ह दर्जा.",
            "आत्ताच ऑर्डर करा आणि घरबसल्या मिळवा.",
        ),
        "cta": ("आत्ताच खरेदी करा", "अधिक जाणून घ्या", "ऑर्डर करा"),
    },
    "gu": {
        "headline": (
            "તમારા માટે {product}",
            "નવો અંદાજ, એ જ વિશ્વાસ",
            "આજે જ અજમાવો",
            "તહેવારની ખાસ ઓફર",
        ),
        "primary_text": (
            "{product} સાથે દરેક દિવસ ખાસ બનાવો. મર્યાદિત સમયની ઓફર.",
            "{product}: ભરોસાપાત્ર ગુણવત્તા.",
            "હમણાં જ ઓર્ડર કરો અને ઘરે મેળવો.",
        ),
        "cta": ("હમણાં ખરીદો", "વધુ જાણો", "ઓર્ડર કરો"),
    },
    "kn": {
        "headline": ("ನಿಮಗಾಗಿ {product}", "ಹೊಸ ರೂಪ, ಅದೇ ನಂಬಿಕೆ", "ಇಂದೇ ಪ್ರಯತ್ನಿಸಿ", "ಹಬ್ಬದ ವಿಶೇಷ ಕೊಡುಗೆ"),
        "primary_text": (
            "{product} ಜೊತೆ ಪ್ರತಿದಿನವೂ ವಿಶೇಷ. ಸೀಮಿತ ಅವಧಿಯ ಕೊಡುಗೆ.",
            "{product}: ನಂಬಬಹುದಾದ ಗುಣಮಟ್ಟ.",
            "ಈಗಲೇ ಆರ್ಡರ್ ಮಾಡಿ, ಮನೆಯಲ್ಲೇ ಪಡೆಯಿರಿ.",
        ),
        "cta": ("ಈಗಲೇ ಖರೀದಿಸಿ", "ಇನ್ನಷ್ಟು ತಿಳಿಯಿರಿ", "ಆರ್ಡರ್ ಮಾಡಿ"),
    },
    "ml": {
        "headline": ("നിങ്ങൾക്കായി {product}", "പുതിയ രൂപം, അതേ വിശ്വാസം", "ഇന്നുതന്നെ പരീക്ഷിക്കൂ", "ഉത്സവ ഓഫർ"),
        "primary_text": (
            "{product} കൂടെ ഓരോ ദിവസവും സ്പെഷ്യൽ. പരിമിത കാല ഓഫർ.",
            "{product}: വിശ്വസനീയമായ ഗുണനിലവാരം.",
            "ഇപ്പോൾ തന്നെ ഓർഡർ ചെയ്യൂ, വീട്ടിലിരുന്ന് നേടൂ.",
        ),
        "cta": ("ഇപ്പോൾ വാങ്ങൂ", "കൂടുതൽ അറിയൂ", "ഓർഡർ ചെയ്യൂ"),
    },
}
