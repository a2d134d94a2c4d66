//! North American area codes → the province or state they serve, for the onboarding search's
//! fallback ("area code first, then the same region, then the country"; issue 9). Twilio's
//! `AvailablePhoneNumbers/{Country}/Local` search takes the region as `InRegion` with these
//! two-letter codes (ISO 3166-2 subdivision, without the country prefix).
//!
//! Source: NANPA's area-code assignments by location (nationalnanpa.com, "NPA Reports"), and the
//! CNA's list for Canada (cnac.ca). Area codes that serve several provinces or territories
//! (867: Yukon, Northwest Territories and Nunavut) are left out: the search then goes straight to
//! the country. Data, not logic: a missing code only skips the region step.

/// `(country, region, area codes)`.
const TABLE: &[(&str, &str, &[u16])] = &[
    ("CA", "AB", &[368, 403, 587, 780, 825]),
    ("CA", "BC", &[236, 250, 257, 604, 672, 778]),
    ("CA", "MB", &[204, 431, 584]),
    ("CA", "NB", &[428, 506]),
    ("CA", "NL", &[709, 879]),
    ("CA", "NS", &[782, 902]),
    (
        "CA",
        "ON",
        &[
            226, 249, 289, 343, 365, 382, 416, 437, 519, 548, 613, 647, 683, 705, 742, 753, 807,
            905, 942,
        ],
    ),
    (
        "CA",
        "QC",
        &[263, 354, 367, 418, 438, 450, 468, 514, 579, 581, 819, 873],
    ),
    ("CA", "SK", &[306, 474, 639]),
    ("US", "AL", &[205, 251, 256, 334, 659, 938]),
    ("US", "AK", &[907]),
    ("US", "AZ", &[480, 520, 602, 623, 928]),
    ("US", "AR", &[479, 501, 870]),
    (
        "US",
        "CA",
        &[
            209, 213, 279, 310, 323, 341, 350, 408, 415, 424, 442, 510, 530, 559, 562, 619, 626,
            628, 650, 657, 661, 669, 707, 714, 747, 760, 805, 818, 820, 831, 840, 858, 909, 916,
            925, 949, 951,
        ],
    ),
    ("US", "CO", &[303, 719, 720, 970, 983]),
    ("US", "CT", &[203, 475, 860, 959]),
    ("US", "DE", &[302]),
    ("US", "DC", &[202, 771]),
    (
        "US",
        "FL",
        &[
            239, 305, 321, 324, 352, 386, 407, 448, 561, 645, 656, 689, 727, 728, 754, 772, 786,
            813, 850, 863, 904, 941, 954,
        ],
    ),
    (
        "US",
        "GA",
        &[229, 404, 470, 478, 678, 706, 762, 770, 912, 943],
    ),
    ("US", "HI", &[808]),
    ("US", "ID", &[208, 986]),
    (
        "US",
        "IL",
        &[
            217, 224, 309, 312, 331, 447, 464, 618, 630, 708, 730, 773, 779, 815, 847, 861, 872,
        ],
    ),
    ("US", "IN", &[219, 260, 317, 463, 574, 765, 812, 930]),
    ("US", "IA", &[319, 515, 563, 641, 712]),
    ("US", "KS", &[316, 620, 785, 913]),
    ("US", "KY", &[270, 364, 502, 606, 859]),
    ("US", "LA", &[225, 318, 337, 504, 985]),
    ("US", "ME", &[207]),
    ("US", "MD", &[227, 240, 301, 410, 443, 667]),
    ("US", "MA", &[339, 351, 413, 508, 617, 774, 781, 857, 978]),
    (
        "US",
        "MI",
        &[
            231, 248, 269, 313, 517, 586, 616, 679, 734, 810, 906, 947, 989,
        ],
    ),
    ("US", "MN", &[218, 320, 507, 612, 651, 763, 924, 952]),
    ("US", "MS", &[228, 601, 662, 769]),
    ("US", "MO", &[235, 314, 417, 557, 573, 636, 660, 816, 975]),
    ("US", "MT", &[406]),
    ("US", "NE", &[308, 402, 531]),
    ("US", "NV", &[702, 725, 775]),
    ("US", "NH", &[603]),
    (
        "US",
        "NJ",
        &[201, 551, 609, 640, 732, 848, 856, 862, 908, 973],
    ),
    ("US", "NM", &[505, 575]),
    (
        "US",
        "NY",
        &[
            212, 315, 329, 332, 347, 363, 516, 518, 585, 607, 624, 631, 646, 680, 716, 718, 838,
            845, 914, 917, 929, 934,
        ],
    ),
    (
        "US",
        "NC",
        &[252, 336, 472, 704, 743, 828, 910, 919, 980, 984],
    ),
    ("US", "ND", &[701]),
    (
        "US",
        "OH",
        &[
            216, 220, 234, 283, 326, 330, 380, 419, 436, 440, 513, 567, 614, 740, 937,
        ],
    ),
    ("US", "OK", &[405, 539, 572, 580, 918]),
    ("US", "OR", &[458, 503, 541, 971]),
    (
        "US",
        "PA",
        &[
            215, 223, 267, 272, 412, 445, 484, 570, 582, 610, 717, 724, 814, 835, 878,
        ],
    ),
    ("US", "RI", &[401]),
    ("US", "SC", &[803, 821, 839, 843, 854, 864]),
    ("US", "SD", &[605]),
    ("US", "TN", &[423, 615, 629, 731, 865, 901, 931]),
    (
        "US",
        "TX",
        &[
            210, 214, 254, 281, 325, 346, 361, 409, 430, 432, 469, 512, 682, 713, 726, 737, 806,
            817, 830, 832, 903, 915, 936, 940, 945, 956, 972, 979,
        ],
    ),
    ("US", "UT", &[385, 435, 801]),
    ("US", "VT", &[802]),
    (
        "US",
        "VA",
        &[276, 434, 540, 571, 686, 703, 757, 804, 826, 948],
    ),
    ("US", "WA", &[206, 253, 360, 425, 509, 564]),
    ("US", "WV", &[304, 681]),
    ("US", "WI", &[262, 274, 353, 414, 534, 608, 715, 920]),
    ("US", "WY", &[307]),
];

/// The province or state (`InRegion` code, e.g. `AB`) that `area_code` serves in `country`
/// (`CA` or `US`); `None` for an unknown code, a code of the other country, or one shared by
/// several regions.
pub fn region_of(country: &str, area_code: &str) -> Option<&'static str> {
    let code: u16 = area_code.parse().ok()?;
    TABLE
        .iter()
        .find(|(c, _, codes)| *c == country && codes.contains(&code))
        .map(|(_, r, _)| *r)
}

/// Canadian area codes outside [`TABLE`]: 867 (shared by the three territories) and the
/// non-geographic 600 and 622/633/644/655/677/688 (CNAC "non-geographic area codes").
const CA_OTHER: &[u16] = &[600, 622, 633, 644, 655, 677, 688, 867];

/// North American toll-free codes (NANPA): not 10DLC; texting from them needs toll-free
/// verification instead of A2P 10DLC.
pub const TOLL_FREE: &[u16] = &[800, 833, 844, 855, 866, 877, 888];

/// The country of a +1 number's `area_code`: `CA`, `US`, or `None` (toll-free, the Caribbean
/// and other NANP members, unknown).
pub fn nanp_country(area_code: &str) -> Option<&'static str> {
    let code: u16 = area_code.parse().ok()?;
    if CA_OTHER.contains(&code) {
        return Some("CA");
    }
    TABLE
        .iter()
        .find(|(_, _, codes)| codes.contains(&code))
        .map(|(c, _, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nanp_numbers_have_their_country() {
        assert_eq!(nanp_country("587"), Some("CA"));
        assert_eq!(nanp_country("867"), Some("CA"));
        assert_eq!(nanp_country("212"), Some("US"));
        assert_eq!(nanp_country("800"), None);
        assert_eq!(nanp_country("876"), None); // Jamaica
    }

    #[test]
    fn area_codes_map_to_their_region() {
        assert_eq!(region_of("CA", "587"), Some("AB"));
        assert_eq!(region_of("CA", "416"), Some("ON"));
        assert_eq!(region_of("CA", "514"), Some("QC"));
        assert_eq!(region_of("US", "212"), Some("NY"));
        assert_eq!(region_of("US", "415"), Some("CA"));
        // The other country's code, a shared one, nonsense.
        assert_eq!(region_of("US", "587"), None);
        assert_eq!(region_of("CA", "867"), None);
        assert_eq!(region_of("CA", "5a7"), None);
    }

    #[test]
    fn every_code_is_a_valid_npa_and_appears_once() {
        let mut seen = std::collections::HashSet::new();
        for (country, region, codes) in TABLE {
            assert!(["CA", "US"].contains(country));
            assert_eq!(region.len(), 2);
            for c in *codes {
                // NANP area codes: NXX, N = 2..9, and not N11 (service codes).
                assert!((200..=999).contains(c), "{c}");
                assert_ne!(c % 100, 11, "{c} is a service code");
                assert!(seen.insert(*c), "{c} listed twice");
            }
        }
    }
}
