"""Fake direct identifiers: names, initials and postcodes per country (invented, not real people)."""

from __future__ import annotations

import numpy as np
import pandas as pd

MALE = {
    "DE": ["Thomas", "Michael", "Andreas", "Stefan", "Jürgen", "Klaus", "Günter", "Uwe", "Lukas", "Jörg"],
    "NL": ["Jan", "Pieter", "Willem", "Daan", "Sander", "Bram", "Kees", "Joris", "Ruud", "Thijs"],
    "BE": ["Luc", "Marc", "Wouter", "Geert", "Koen", "Dirk", "Pascal", "Bart", "Johan", "Yves"],
    "FR": ["Jean", "Pierre", "François", "Hervé", "Jérôme", "Michel", "Benoît", "Loïc", "René", "Noël"],
    "GB": ["James", "Oliver", "George", "Harry", "David", "Richard", "Peter", "Andrew", "Simon", "Paul"],
    "IT": [
        "Marco",
        "Giuseppe",
        "Luca",
        "Giovanni",
        "Paolo",
        "Andrea",
        "Francesco",
        "Matteo",
        "Stefano",
        "Nicola",
    ],
    "ES": ["José", "Antonio", "Manuel", "Javier", "Jesús", "Alejandro", "Sergio", "Rubén", "Pablo", "Iñigo"],
}
FEMALE = {
    "DE": ["Sabine", "Ursula", "Monika", "Petra", "Jutta", "Käthe", "Birgit", "Anja", "Bärbel", "Heike"],
    "NL": ["Anna", "Sanne", "Femke", "Lotte", "Marloes", "Anouk", "Ingrid", "Eva", "Noor", "Jolien"],
    "BE": ["Marie", "Els", "Griet", "Nathalie", "An", "Sofie", "Veerle", "Katrien", "Lieve", "Inge"],
    "FR": [
        "Marie",
        "Hélène",
        "Françoise",
        "Céline",
        "Élodie",
        "Nathalie",
        "Sophie",
        "Aurélie",
        "Gaëlle",
        "Chloé",
    ],
    "GB": ["Mary", "Sarah", "Emma", "Olivia", "Helen", "Susan", "Claire", "Rachel", "Emily", "Jane"],
    "IT": ["Giulia", "Francesca", "Chiara", "Maria", "Anna", "Sara", "Elena", "Valentina", "Silvia", "Laura"],
    "ES": ["María", "Carmen", "Ana", "Lucía", "Isabel", "Pilar", "Begoña", "Nuria", "Elena", "Marta"],
}
LAST = {
    "DE": [
        "Müller",
        "Schmidt",
        "Schneider",
        "Fischer",
        "Weiß",
        "Schäfer",
        "Becker",
        "Hoffmann",
        "Krüger",
        "Wagner",
    ],
    "NL": [
        "de Jong",
        "Jansen",
        "de Vries",
        "van den Berg",
        "Bakker",
        "Visser",
        "Smit",
        "Meijer",
        "Mulder",
        "Bos",
    ],
    "BE": [
        "Peeters",
        "Janssens",
        "Maes",
        "Jacobs",
        "Mertens",
        "Willems",
        "Claes",
        "Goossens",
        "Wouters",
        "Dubois",
    ],
    "FR": [
        "Martin",
        "Bernard",
        "Dubois",
        "Lefèvre",
        "Moreau",
        "Laurent",
        "Girard",
        "Rousseau",
        "Fournier",
        "Bérenger",
    ],
    "GB": ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Thomas", "Roberts", "Walker", "Wright"],
    "IT": [
        "Rossi",
        "Russo",
        "Ferrari",
        "Esposito",
        "Bianchi",
        "Romano",
        "Colombo",
        "Ricci",
        "Marino",
        "Greco",
    ],
    "ES": [
        "García",
        "Fernández",
        "González",
        "Rodríguez",
        "López",
        "Martínez",
        "Sánchez",
        "Pérez",
        "Gómez",
        "Núñez",
    ],
}


def draw_names(
    rng: np.random.Generator, countries: np.ndarray, sex: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    n = len(countries)
    first = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    pick_first = rng.integers(0, 10, n)
    pick_last = rng.integers(0, 10, n)
    for country in MALE:
        in_country = countries == country
        male = in_country & (sex == "M")
        female = in_country & (sex != "M")
        first[male] = np.array(MALE[country], dtype=object)[pick_first[male]]
        first[female] = np.array(FEMALE[country], dtype=object)[pick_first[female]]
        last[in_country] = np.array(LAST[country], dtype=object)[pick_last[in_country]]
    return first, last


def initials(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """First letters of first and last name ('van den Berg' -> 'B', as Dutch registries file it)."""
    surname_core = pd.Series(last).str.split(" ").str[-1]
    return (pd.Series(first).str[0] + surname_core.str[0].str.upper()).to_numpy(object)


def postcodes(rng: np.random.Generator, countries: np.ndarray) -> np.ndarray:
    n = len(countries)
    digits = pd.Series(rng.integers(10000, 99999, n)).astype(str)
    letters = np.array(list("ABCDEFGHJKLMNPRSTWXZ"), dtype=object)
    two = pd.Series(letters[rng.integers(0, 20, n)] + letters[rng.integers(0, 20, n)])
    out = digits.copy()  # DE, FR, IT, ES: five digits
    nl = countries == "NL"
    out[nl] = digits[nl].str[:4] + " " + two[nl]
    be = countries == "BE"
    out[be] = digits[be].str[:4]
    gb = countries == "GB"
    out[gb] = two[gb] + digits[gb].str[:1] + " " + digits[gb].str[1:2] + two[gb].str[::-1]
    return out.to_numpy(object)
