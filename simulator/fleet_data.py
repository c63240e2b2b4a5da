"""Word lists the seeded fleet draws from: places, property names, people."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class City:
    """A city holiday rentals are in."""

    name: str
    country: str
    timezone: str
    zip_codes: tuple[str, ...]
    neighbourhoods: tuple[str, ...]
    streets: tuple[str, ...]
    phone_prefix: str


CITIES: Final = (
    City(
        "Sevilla",
        "ES",
        "Europe/Madrid",
        ("41001", "41002", "41003", "41004", "41010"),
        ("Triana", "Santa Cruz", "Alameda", "Macarena", "Arenal"),
        ("Calle Betis", "Calle Pureza", "Calle Feria", "Calle Sierpes", "Calle Mateos Gago"),
        "+34",
    ),
    City(
        "Madrid",
        "ES",
        "Europe/Madrid",
        ("28004", "28005", "28012", "28013", "28014"),
        ("Malasaña", "Lavapiés", "La Latina", "Chueca", "Sol"),
        ("Calle del Pez", "Calle de Argumosa", "Calle de la Cava Baja", "Calle de Hortaleza", "Calle Mayor"),
        "+34",
    ),
    City(
        "Barcelona",
        "ES",
        "Europe/Madrid",
        ("08001", "08002", "08003", "08012", "08037"),
        ("Gràcia", "El Born", "Barceloneta", "Eixample", "Poblenou"),
        (
            "Carrer de Verdi",
            "Carrer de la Princesa",
            "Carrer del Mar",
            "Carrer de Girona",
            "Rambla del Poblenou",
        ),
        "+34",
    ),
    City(
        "Valencia",
        "ES",
        "Europe/Madrid",
        ("46001", "46003", "46004", "46006", "46011"),
        ("Ruzafa", "El Carmen", "Cabanyal", "Malvarrosa", "Benimaclet"),
        (
            "Carrer de Sueca",
            "Carrer de Quart",
            "Carrer de la Reina",
            "Passeig de Neptú",
            "Carrer del Dr. Lluch",
        ),
        "+34",
    ),
    City(
        "Málaga",
        "ES",
        "Europe/Madrid",
        ("29001", "29012", "29016", "29017"),
        ("Centro Histórico", "La Malagueta", "El Soho", "Pedregalejo"),
        ("Calle Larios", "Calle Granada", "Paseo de Reding", "Calle Bolivia", "Calle Trinidad Grund"),
        "+34",
    ),
    City(
        "Granada",
        "ES",
        "Europe/Madrid",
        ("18009", "18010", "18001"),
        ("Albaicín", "Realejo", "Sacromonte", "Centro"),
        ("Calle Elvira", "Cuesta de Gomérez", "Calle Pagés", "Carrera del Darro"),
        "+34",
    ),
    City(
        "Palma",
        "ES",
        "Europe/Madrid",
        ("07001", "07002", "07012", "07015"),
        ("Santa Catalina", "Son Espanyolet", "Portixol", "La Lonja"),
        ("Carrer de Fàbrica", "Carrer de Sant Magí", "Carrer del Vapor", "Carrer de Sant Feliu"),
        "+34",
    ),
    City(
        "Donostia-San Sebastián",
        "ES",
        "Europe/Madrid",
        ("20001", "20003", "20002", "20008"),
        ("Parte Vieja", "Gros", "Centro", "Antiguo"),
        ("Calle 31 de Agosto", "Calle Zabaleta", "Calle Hondarribia", "Calle Matia"),
        "+34",
    ),
    City(
        "Las Palmas de Gran Canaria",
        "ES",
        "Atlantic/Canary",
        ("35007", "35008", "35010"),
        ("Las Canteras", "Vegueta", "Triana"),
        ("Calle Luis Morote", "Calle Mendizábal", "Calle Tomás Morales"),
        "+34",
    ),
    City(
        "Lisboa",
        "PT",
        "Europe/Lisbon",
        ("1100-148", "1200-195", "1100-341", "1250-096"),
        ("Alfama", "Bairro Alto", "Chiado", "Príncipe Real", "Mouraria"),
        (
            "Rua de São Miguel",
            "Rua da Atalaia",
            "Rua Garrett",
            "Rua da Escola Politécnica",
            "Rua da Mouraria",
        ),
        "+351",
    ),
    City(
        "Porto",
        "PT",
        "Europe/Lisbon",
        ("4050-297", "4000-322", "4050-509"),
        ("Ribeira", "Baixa", "Miragaia", "Cedofeita"),
        ("Rua das Flores", "Rua de Santa Catarina", "Rua de Miragaia", "Rua de Cedofeita"),
        "+351",
    ),
    City(
        "Lagos",
        "PT",
        "Europe/Lisbon",
        ("8600-315", "8600-500"),
        ("Centro Histórico", "Meia Praia", "Ponta da Piedade"),
        ("Rua Cândido dos Reis", "Rua da Barroca", "Avenida dos Descobrimentos"),
        "+351",
    ),
)

FLAT_KINDS: Final = ("Apartamento", "Ático", "Estudio", "Loft", "Dúplex")
HOUSE_KINDS: Final = ("Casa", "Villa", "Casita")
FLAT_KINDS_PT: Final = ("Apartamento", "Estúdio", "Loft", "Duplex")
HOUSE_KINDS_PT: Final = ("Casa", "Moradia", "Casinha")
DESCRIPTORS: Final = (
    "Sol",
    "Azul",
    "Mirador",
    "Terraza",
    "Patio",
    "Jardín",
    "Luz",
    "Brisa",
    "Olivo",
    "Naranjo",
    "Azahar",
    "Marinero",
    "Bohemio",
    "Torre",
)
DESCRIPTORS_PT: Final = ("do Sol", "Azul", "do Miradouro", "do Fado", "da Luz", "Azulejo", "do Rio", "do Mar")

STAFF_FIRST_NAMES: Final = (
    "María",
    "Lucía",
    "Carmen",
    "Rocío",
    "Ana",
    "Marta",
    "Pilar",
    "Javier",
    "Sergio",
    "Antonio",
    "Rafael",
    "Inês",
    "Joana",
    "Rui",
)
STAFF_LAST_NAMES: Final = (
    "García",
    "Fernández",
    "López",
    "Martín",
    "Sánchez",
    "Romero",
    "Navarro",
    "Ortega",
    "Delgado",
    "Castro",
    "Silva",
    "Ferreira",
)

# (first names, last names, phone prefix, nationality)
GUEST_ORIGINS: Final = (
    (
        ("Laura", "Pablo", "Elena", "Daniel", "Irene", "Álvaro"),
        ("Martínez", "Gómez", "Ruiz", "Moreno", "Gil"),
        "+34",
        "ES",
    ),
    (
        ("Sophie", "Lukas", "Anna", "Jonas", "Lea"),
        ("Müller", "Schmidt", "Fischer", "Weber", "Becker"),
        "+49",
        "DE",
    ),
    (("Camille", "Louis", "Chloé", "Hugo"), ("Dubois", "Lefebvre", "Moreau", "Laurent"), "+33", "FR"),
    (
        ("Emma", "Oliver", "Amelia", "Harry", "Grace"),
        ("Smith", "Taylor", "Brown", "Wilson", "Evans"),
        "+44",
        "GB",
    ),
    (("Giulia", "Marco", "Francesca", "Luca"), ("Rossi", "Bianchi", "Romano", "Ricci"), "+39", "IT"),
    (("Sanne", "Daan", "Fleur", "Bram"), ("de Vries", "Jansen", "Bakker", "Visser"), "+31", "NL"),
    (("Beatriz", "Tiago", "Mariana", "João"), ("Costa", "Santos", "Oliveira", "Pereira"), "+351", "PT"),
    (("Emily", "Michael", "Olivia", "James"), ("Johnson", "Miller", "Davis", "Anderson"), "+1", "US"),
)

BOOKING_NOTES: Final = (
    "Llegada tardía, sobre las 22:00.",
    "Viajan con un bebé: preparar cuna.",
    "Piden late check-out si es posible.",
    "Celebran aniversario: dejar botella de cava.",
    "Traen una mascota pequeña (autorizada).",
    "Arriving by car, asked about parking.",
)

MAINTENANCE_TITLES: Final = (
    "Revisar cisterna del baño",
    "Cambiar bombilla del salón",
    "Revisión del aire acondicionado",
    "Reparar persiana del dormitorio",
    "Cambiar pilas del detector de humo",
)

BLOCK_TITLES: Final = (
    ("Uso del propietario", "manual"),
    ("Mantenimiento", "manual"),
    ("Not available", "airbnb"),
)
