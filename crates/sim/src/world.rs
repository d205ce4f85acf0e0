//! The simulated country: agencies, regions, appeal categories, offence
//! articles and payment providers. Pure data plus the lookups the planner
//! needs; nothing here draws random numbers.

use casetrail_exchange::{AgencyKind, AgencySlug, LocalizedName};
use casetrail_types::Kato;

use crate::Scale;

/// One agency as registered by `agency.registered`.
#[derive(Clone, Debug)]
pub(crate) struct Agency {
    pub slug: AgencySlug,
    pub name: LocalizedName,
    pub kind: AgencyKind,
    pub region: Option<Kato>,
    pub parent: Option<AgencySlug>,
}

/// A region (oblys or city of republican significance) in the simulation,
/// with the indices of its bodies in [`World::agencies`].
#[derive(Clone, Debug)]
pub(crate) struct RegionBodies {
    pub kato: Kato,
    /// Share of the population (relative weight).
    pub weight: f64,
    pub akimat: u16,
    pub police: u16,
    pub prosecutor: u16,
    pub bailiff: u16,
    pub court: u16,
}

/// Which body is competent for an appeal category.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Handler {
    Akimat,
    Police,
    Court,
    Prosecutor,
    Ministry(&'static str),
}

/// An appeal category: its identifier, relative weight and competent body.
pub(crate) struct Category {
    pub slug: &'static str,
    pub weight: f64,
    pub handler: Handler,
}

/// Appeal categories (slugs are the `category` field), with rough weights.
pub(crate) const CATEGORIES: &[Category] = &[
    Category { slug: "housing", weight: 12.0, handler: Handler::Akimat },
    Category { slug: "utilities", weight: 12.0, handler: Handler::Akimat },
    Category { slug: "roads", weight: 7.0, handler: Handler::Akimat },
    Category { slug: "land", weight: 7.0, handler: Handler::Akimat },
    Category { slug: "public_transport", weight: 4.0, handler: Handler::Akimat },
    Category { slug: "education", weight: 8.0, handler: Handler::Ministry("min-education") },
    Category { slug: "health", weight: 8.0, handler: Handler::Ministry("min-health") },
    Category { slug: "social_benefits", weight: 9.0, handler: Handler::Ministry("min-labour") },
    Category { slug: "employment", weight: 4.0, handler: Handler::Ministry("min-labour") },
    Category { slug: "police_conduct", weight: 5.0, handler: Handler::Police },
    Category { slug: "traffic", weight: 3.0, handler: Handler::Police },
    Category { slug: "courts", weight: 2.0, handler: Handler::Court },
    Category { slug: "law_enforcement", weight: 2.0, handler: Handler::Prosecutor },
    Category { slug: "enforcement_proceedings", weight: 3.0, handler: Handler::Ministry("min-justice") },
    Category { slug: "civil_registration", weight: 3.0, handler: Handler::Ministry("min-justice") },
    Category { slug: "ecology", weight: 3.0, handler: Handler::Ministry("min-ecology") },
    Category { slug: "taxes", weight: 3.0, handler: Handler::Ministry("min-finance") },
    Category { slug: "public_services", weight: 3.0, handler: Handler::Ministry("min-digital") },
    Category { slug: "agriculture", weight: 2.0, handler: Handler::Ministry("min-agriculture") },
    Category { slug: "emergencies", weight: 1.0, handler: Handler::Ministry("min-emergencies") },
    Category { slug: "energy", weight: 1.0, handler: Handler::Ministry("min-energy") },
    Category { slug: "culture_and_media", weight: 1.0, handler: Handler::Ministry("min-culture") },
    Category { slug: "higher_education", weight: 1.0, handler: Handler::Ministry("min-science") },
    Category { slug: "construction", weight: 1.0, handler: Handler::Ministry("min-industry") },
    Category { slug: "transport", weight: 1.0, handler: Handler::Ministry("min-transport") },
    Category { slug: "economy_and_prices", weight: 1.0, handler: Handler::Ministry("min-economy") },
];

/// An article of the Code of Administrative Offences with its fine in MCI.
pub(crate) struct Article {
    pub article: &'static str,
    pub mci: u32,
    /// Relative weight among officer-drawn protocols (0: camera only).
    pub officer_weight: f64,
    /// Relative weight among camera fines (0: officer only).
    pub camera_weight: f64,
    /// Share of cases decided in the short procedure (50% within 7 days).
    pub short_procedure_share: f64,
}

/// Offences (Code of Administrative Offences of 2014). Amounts are typical
/// sanctions in MCI for a natural person; parts are approximate.
pub(crate) const ARTICLES: &[Article] = &[
    // Speeding by 10–20 / 20–40 / over 40 km/h.
    Article { article: "592.1", mci: 5, officer_weight: 10.0, camera_weight: 55.0, short_procedure_share: 0.97 },
    Article { article: "592.2", mci: 10, officer_weight: 6.0, camera_weight: 25.0, short_procedure_share: 0.97 },
    Article { article: "592.3", mci: 20, officer_weight: 2.0, camera_weight: 6.0, short_procedure_share: 0.95 },
    // Traffic rules by drivers (seat belts, phone at the wheel, ...).
    Article { article: "590.1", mci: 3, officer_weight: 14.0, camera_weight: 0.0, short_procedure_share: 0.95 },
    Article { article: "590.4", mci: 10, officer_weight: 6.0, camera_weight: 0.0, short_procedure_share: 0.9 },
    // Red light and stop line, stopping and parking, documents.
    Article { article: "596.1", mci: 10, officer_weight: 6.0, camera_weight: 10.0, short_procedure_share: 0.95 },
    Article { article: "597.1", mci: 5, officer_weight: 12.0, camera_weight: 4.0, short_procedure_share: 0.95 },
    Article { article: "610.1", mci: 5, officer_weight: 8.0, camera_weight: 0.0, short_procedure_share: 0.9 },
    Article { article: "611.1", mci: 15, officer_weight: 3.0, camera_weight: 0.0, short_procedure_share: 0.6 },
    Article { article: "608.1", mci: 40, officer_weight: 1.0, camera_weight: 0.0, short_procedure_share: 0.0 },
    // Petty hooliganism, drinking in public places.
    Article { article: "434.1", mci: 5, officer_weight: 4.0, camera_weight: 0.0, short_procedure_share: 0.4 },
    Article { article: "440.1", mci: 5, officer_weight: 6.0, camera_weight: 0.0, short_procedure_share: 0.5 },
    Article { article: "440.2", mci: 10, officer_weight: 2.0, camera_weight: 0.0, short_procedure_share: 0.4 },
];

/// Payment providers (`provider` values) with market shares and the prefix
/// of their payment ids.
pub(crate) const PROVIDERS: &[(&str, f64, &str)] = &[
    ("kaspi", 0.55, "KSP"),
    ("halyk", 0.15, "HB-"),
    ("egov", 0.15, "EGOV-"),
    ("kassa24", 0.08, "K24-"),
    ("kazpost", 0.07, "KP-"),
];

/// Ministries: slug, kk, ru, en.
const MINISTRIES: &[(&str, &str, &str, &str)] = &[
    ("min-justice", "Әділет министрлігі", "Министерство юстиции", "Ministry of Justice"),
    ("min-education", "Оқу-ағарту министрлігі", "Министерство просвещения", "Ministry of Education"),
    ("min-health", "Денсаулық сақтау министрлігі", "Министерство здравоохранения", "Ministry of Health"),
    (
        "min-labour",
        "Еңбек және халықты әлеуметтік қорғау министрлігі",
        "Министерство труда и социальной защиты населения",
        "Ministry of Labour and Social Protection of the Population",
    ),
    ("min-internal-affairs", "Ішкі істер министрлігі", "Министерство внутренних дел", "Ministry of Internal Affairs"),
    (
        "min-ecology",
        "Экология және табиғи ресурстар министрлігі",
        "Министерство экологии и природных ресурсов",
        "Ministry of Ecology and Natural Resources",
    ),
    ("min-finance", "Қаржы министрлігі", "Министерство финансов", "Ministry of Finance"),
    (
        "min-digital",
        "Цифрлық даму, инновациялар және аэроғарыш өнеркәсібі министрлігі",
        "Министерство цифрового развития, инноваций и аэрокосмической промышленности",
        "Ministry of Digital Development, Innovation and Aerospace Industry",
    ),
    ("min-agriculture", "Ауыл шаруашылығы министрлігі", "Министерство сельского хозяйства", "Ministry of Agriculture"),
    (
        "min-emergencies",
        "Төтенше жағдайлар министрлігі",
        "Министерство по чрезвычайным ситуациям",
        "Ministry of Emergency Situations",
    ),
    ("min-energy", "Энергетика министрлігі", "Министерство энергетики", "Ministry of Energy"),
    (
        "min-culture",
        "Мәдениет және ақпарат министрлігі",
        "Министерство культуры и информации",
        "Ministry of Culture and Information",
    ),
    (
        "min-science",
        "Ғылым және жоғары білім министрлігі",
        "Министерство науки и высшего образования",
        "Ministry of Science and Higher Education",
    ),
    (
        "min-industry",
        "Өнеркәсіп және құрылыс министрлігі",
        "Министерство промышленности и строительства",
        "Ministry of Industry and Construction",
    ),
    ("min-transport", "Көлік министрлігі", "Министерство транспорта", "Ministry of Transport"),
    (
        "min-economy",
        "Ұлттық экономика министрлігі",
        "Министерство национальной экономики",
        "Ministry of National Economy",
    ),
];

/// Regions by KATO prefix: slug, Kazakh genitive, Russian genitive,
/// population in millions (weights).
const REGIONS: &[(u8, &str, &str, &str, f64)] = &[
    (10, "abai", "Абай облысының", "Абайской области", 0.61),
    (11, "akmola", "Ақмола облысының", "Акмолинской области", 0.79),
    (15, "aktobe", "Ақтөбе облысының", "Актюбинской области", 0.93),
    (19, "almaty-region", "Алматы облысының", "Алматинской области", 1.52),
    (23, "atyrau", "Атырау облысының", "Атырауской области", 0.70),
    (27, "west-kazakhstan", "Батыс Қазақстан облысының", "Западно-Казахстанской области", 0.69),
    (31, "zhambyl", "Жамбыл облысының", "Жамбылской области", 1.22),
    (33, "zhetysu", "Жетісу облысының", "области Жетісу", 0.70),
    (35, "karaganda", "Қарағанды облысының", "Карагандинской области", 1.14),
    (39, "kostanay", "Қостанай облысының", "Костанайской области", 0.83),
    (43, "kyzylorda", "Қызылорда облысының", "Кызылординской области", 0.84),
    (47, "mangystau", "Маңғыстау облысының", "Мангистауской области", 0.79),
    (55, "pavlodar", "Павлодар облысының", "Павлодарской области", 0.75),
    (59, "north-kazakhstan", "Солтүстік Қазақстан облысының", "Северо-Казахстанской области", 0.53),
    (61, "turkistan", "Түркістан облысының", "Туркестанской области", 2.14),
    (62, "ulytau", "Ұлытау облысының", "области Ұлытау", 0.22),
    (63, "east-kazakhstan", "Шығыс Қазақстан облысының", "Восточно-Казахстанской области", 0.73),
    (71, "astana", "Астана қаласының", "города Астаны", 1.50),
    (75, "almaty", "Алматы қаласының", "города Алматы", 2.25),
    (79, "shymkent", "Шымкент қаласының", "города Шымкента", 1.25),
];

/// KATO prefix of the city simulated at city scale (Astana).
pub(crate) const CITY_PREFIX: u8 = 71;
/// KATO prefix of the region simulated at region scale (Karaganda).
pub(crate) const REGION_PREFIX: u8 = 35;

/// Everything the planner knows about the country.
pub(crate) struct World {
    pub agencies: Vec<Agency>,
    pub regions: Vec<RegionBodies>,
    /// Ministry slug → agency index.
    ministries: Vec<(&'static str, u16)>,
    /// Agencies an appeal may be wrongly sent to, besides regional bodies.
    pub ministry_indices: Vec<u16>,
}

/// Why the world cannot be built (bad static data): reported as an I/O
/// error of kind `InvalidData` by [`crate::simulate`].
#[derive(Debug)]
pub(crate) struct WorldError(pub String);

fn slug(text: &str) -> Result<AgencySlug, WorldError> {
    AgencySlug::parse(text).map_err(|error| WorldError(error.to_string()))
}

fn name(kk: String, ru: String, en: String) -> LocalizedName {
    LocalizedName { kk, ru, en }
}

impl World {
    pub fn build(scale: Scale) -> Result<World, WorldError> {
        let mut agencies = Vec::new();
        let republic_kk = "Қазақстан Республикасы";
        let republic_ru = "Республики Казахстан";
        let republic_en = "of the Republic of Kazakhstan";
        let mut ministries = Vec::new();
        let mut ministry_indices = Vec::new();
        for (id, kk, ru, en) in MINISTRIES {
            let index = agencies.len() as u16;
            agencies.push(Agency {
                slug: slug(id)?,
                name: name(format!("{republic_kk} {kk}"), format!("{ru} {republic_ru}"), format!("{en} {republic_en}")),
                kind: AgencyKind::Ministry,
                region: None,
                parent: None,
            });
            ministries.push((*id, index));
            ministry_indices.push(index);
        }
        agencies.push(Agency {
            slug: slug("prosecutor-general")?,
            name: name(
                format!("{republic_kk}ның Бас прокуратурасы"),
                format!("Генеральная прокуратура {republic_ru}"),
                format!("Prosecutor General's Office {republic_en}"),
            ),
            kind: AgencyKind::Prosecutor,
            region: None,
            parent: None,
        });
        agencies.push(Agency {
            slug: slug("supreme-court")?,
            name: name(
                format!("{republic_kk}ның Жоғарғы Соты"),
                format!("Верховный Суд {republic_ru}"),
                format!("Supreme Court {republic_en}"),
            ),
            kind: AgencyKind::Court,
            region: None,
            parent: None,
        });
        agencies.push(Agency {
            slug: slug("bailiffs-republic")?,
            name: name(
                "Жеке сот орындаушыларының республикалық палатасы".into(),
                "Республиканская палата частных судебных исполнителей".into(),
                "Republican Chamber of Private Bailiffs".into(),
            ),
            kind: AgencyKind::Bailiff,
            region: None,
            parent: None,
        });
        let mut regions = Vec::new();
        for (prefix, id, kk_gen, ru_gen, weight) in REGIONS {
            let wanted = match scale {
                Scale::City => *prefix == CITY_PREFIX,
                Scale::Region => *prefix == REGION_PREFIX,
                Scale::National => true,
            };
            if !wanted {
                continue;
            }
            let Some(region) = casetrail_types::regions().iter().find(|r| r.code.region_prefix() == *prefix) else {
                return Err(WorldError(format!("KATO region {prefix} is missing from the embedded region list")));
            };
            let en = region.name_en.as_str();
            let push = |agencies: &mut Vec<Agency>,
                        kind,
                        body: &str,
                        names: LocalizedName,
                        parent: &str|
             -> Result<u16, WorldError> {
                let index = agencies.len() as u16;
                agencies.push(Agency {
                    slug: slug(&format!("{body}-{id}"))?,
                    name: names,
                    kind,
                    region: Some(region.code),
                    parent: if parent.is_empty() { None } else { Some(slug(parent)?) },
                });
                Ok(index)
            };
            let akimat = push(
                &mut agencies,
                AgencyKind::Akimat,
                "akimat",
                name(format!("{kk_gen} әкімдігі"), format!("Акимат {ru_gen}"), format!("Akimat of {en}")),
                "",
            )?;
            let police = push(
                &mut agencies,
                AgencyKind::Police,
                "police",
                name(
                    format!("{kk_gen} Полиция департаменті"),
                    format!("Департамент полиции {ru_gen}"),
                    format!("Police Department of {en}"),
                ),
                "min-internal-affairs",
            )?;
            let prosecutor = push(
                &mut agencies,
                AgencyKind::Prosecutor,
                "prosecutor",
                name(
                    format!("{kk_gen} прокуратурасы"),
                    format!("Прокуратура {ru_gen}"),
                    format!("Prosecutor's Office of {en}"),
                ),
                "prosecutor-general",
            )?;
            let bailiff = push(
                &mut agencies,
                AgencyKind::Bailiff,
                "bailiffs",
                name(
                    format!("{kk_gen} жеке сот орындаушыларының өңірлік палатасы"),
                    format!("Региональная палата частных судебных исполнителей {ru_gen}"),
                    format!("Regional Chamber of Private Bailiffs of {en}"),
                ),
                "bailiffs-republic",
            )?;
            let court = push(
                &mut agencies,
                AgencyKind::Court,
                "court",
                name(format!("{kk_gen} соты"), format!("Суд {ru_gen}"), format!("Court of {en}")),
                "supreme-court",
            )?;
            regions.push(RegionBodies {
                kato: region.code,
                weight: *weight,
                akimat,
                police,
                prosecutor,
                bailiff,
                court,
            });
        }
        if regions.is_empty() {
            return Err(WorldError("no region selected".into()));
        }
        Ok(World { agencies, regions, ministries, ministry_indices })
    }

    /// The body competent for `category` in `region`.
    pub fn competent(&self, category: usize, region: usize) -> u16 {
        let bodies = &self.regions[region];
        match CATEGORIES[category].handler {
            Handler::Akimat => bodies.akimat,
            Handler::Police => bodies.police,
            Handler::Court => bodies.court,
            Handler::Prosecutor => bodies.prosecutor,
            Handler::Ministry(id) => {
                self.ministries.iter().find(|(slug, _)| *slug == id).map_or(bodies.akimat, |(_, index)| *index)
            }
        }
    }

    /// Bodies an appeal from `region` may plausibly be sent to or bounced
    /// between: the region's akimat, police, prosecutor's office and court,
    /// and every ministry.
    pub fn candidates(&self, region: usize) -> Vec<u16> {
        let bodies = &self.regions[region];
        let mut out = vec![bodies.akimat, bodies.police, bodies.prosecutor, bodies.court];
        out.extend_from_slice(&self.ministry_indices);
        out
    }
}
