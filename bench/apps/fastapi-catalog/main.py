"""A product catalog: `GET /products?limit=50` answers 50 products, each
validated against the response model on the way out."""

from typing import List, Optional

from fastapi import Depends, FastAPI, Query
from pydantic import BaseModel, Field

app = FastAPI(title="Catalog")


class Price(BaseModel):
    amount: float = Field(..., ge=0)
    currency: str = Field("EUR", min_length=3, max_length=3)


class Product(BaseModel):
    id: int
    name: str
    description: Optional[str] = None
    price: Price
    tags: List[str] = []
    in_stock: bool = True


CATALOG = [
    {
        "id": number,
        "name": f"Product {number}",
        "description": f"The {number}th thing we sell, described in a sentence.",
        "price": {"amount": 9.5 + number, "currency": "EUR"},
        "tags": ["new", "popular"] if number % 3 == 0 else ["sale"],
        "in_stock": number % 7 != 0,
    }
    for number in range(1, 201)
]


class Page:
    """A dependency: which slice of the catalog a request asks for."""

    def __init__(self, limit: int = Query(50, ge=1, le=100), offset: int = Query(0, ge=0)):
        self.limit = limit
        self.offset = offset


@app.get("/products", response_model=List[Product])
def products(page: Page = Depends()):
    return CATALOG[page.offset : page.offset + page.limit]


@app.get("/products/{product_id}", response_model=Product)
def product(product_id: int):
    return CATALOG[(product_id - 1) % len(CATALOG)]
